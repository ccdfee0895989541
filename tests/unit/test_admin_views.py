"""The admin views, produced once in core: what each says, and pages that never drop a row."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from bot.cli.common import Terminal
from bot.discord.capacity import DiscordMarkup
from bot.slack.capacity import SlackMarkup
from core.chat import admin_link, admin_render, admin_views
from core.chat.admin_views import ChatUser, Code
from core.domain.model import Resources
from core.services.capacity import BookingRequest
from tests.factories import fake_service


class Marked:
    """Shows each span's kind, so a test sees what the view means, not one surface's look."""

    bullet = "- "

    def text(self, text: str) -> str:
        return text

    def strong(self, text: str) -> str:
        return f"*{text}*"

    def name(self, text: str) -> str:
        return f"[{text}]"

    def code(self, text: str) -> str:
        return f"`{text}`"

    def time(self, at: datetime, zone: tzinfo) -> str:
        return at.astimezone(zone).strftime("%d %H:%M")

    def user(self, platform: str, user_id: str) -> str:
        return f"@{platform}:{user_id}"

    def arrow(self) -> str:
        return " > "


def test_an_admins_summary_shows_what_is_free_who_holds_which_gpu_and_the_chart() -> None:
    service, _ = fake_service()
    held = service.book(BookingRequest("bob", Resources(4, 16, 1), "now", "1-day"))
    zone = service.zone_of(None)

    view = admin_views.capacity_summary(service, zone, days=2)

    lines = admin_render.render(view, Marked()).splitlines()
    assert lines[0] == "*gpu1*: 16 CPUs, 64 GB, 4 GPUs"
    assert lines[1] == "Free in the next 2 days:"
    assert lines[2].endswith(": 12 CPUs, 48 GB, GPUs free: 1,2,3")
    assert lines[3].endswith(": 16 CPUs, 64 GB, GPUs free: 0,1,2,3")
    assert lines[4:] == ["Who holds which GPU:", f"- GPU 0: [bob] (#{held.id}) from "
                         f"{Marked().time(held.start, zone)} until {Marked().time(held.end, zone)}"]
    assert view.chart is not None and [b.id for b in view.chart.bookings] == [held.id]


def test_a_members_summary_shows_only_what_is_free_and_says_the_rest_needs_an_admin() -> None:
    service, _ = fake_service()
    service.book(BookingRequest("bob", Resources(4, 16, 1), "now", "1-day"))

    view = admin_views.capacity_summary(service, service.zone_of(None), admin=False)

    text = admin_render.render(view, Marked())
    assert "GPUs free: 1,2,3" in text and "[bob]" not in text and view.chart is None
    assert text.endswith("\nChanging limits or accounts needs an admin.")


def test_the_users_table_has_admin_maxima_port_links_and_quotas_as_text_and_data() -> None:
    service, _ = fake_service()
    service.add_account("bob", slack_id="UBOB", discord_id="1002")
    service.set_limits("bob", {"gpus": "1", "work_space": "300"})

    view = admin_views.users_table(service, "booking users add ID")

    assert admin_render.render(view, Marked()).splitlines() == [
        "- [alice] (admin): max cpus=16 memory=64 gpus=4, port -",
        "- [bob]: max cpus=8 memory=32 gpus=1, port -, @slack:UBOB, @discord:1002, "
        "quotas: work folder 300 GB, backup folder no limit",
        "- [carol]: max cpus=8 memory=32 gpus=2, port -",
    ]
    bob = view.records[1]
    assert (bob["user"], bob["admin"], bob["slack"], bob["discord"], bob["max"]) == (
        "bob", False, "UBOB", "1002", {"cpus": 8, "memory": 32, "gpus": 1})
    assert bob["quotas"] == {"work_space": 300.0, "backup_space": None}


def test_no_accounts_says_how_to_add_one_on_that_surface() -> None:
    service, _ = fake_service(members=())
    view = admin_views.users_table(service, "/capacity link")
    assert admin_render.render(view, Marked()) == "No accounts yet: `/capacity link`."


def test_a_members_limits_are_shown_or_set_and_quotas_named_when_set() -> None:
    service, _ = fake_service()
    bob = service.account("bob")

    shown = admin_views.member_limits(service, bob, {})
    set_ = admin_views.member_limits(service, bob, {"gpus": "1", "backup_space": "max"})

    assert admin_render.render(shown, Marked()) == "[bob] may book up to cpus=8 memory=32 gpus=2."
    assert admin_render.render(set_, Marked()) == (
        "[bob] may now book up to cpus=8 memory=32 gpus=1; "
        "quotas: work folder no limit, backup folder no limit.")
    assert service.limits_of(service.account("bob")).gpus == 1


def test_a_link_is_made_and_moving_one_asks_how_to_confirm() -> None:
    service, _ = fake_service()
    again = ("send ", Code("/capacity link @dave bob confirm"), ".")

    made = admin_link.link(service, "dave", ChatUser("slack", "UDAVE"), again=again)
    service.add_account("bob", slack_id="UBOB")
    asked = admin_link.link(service, "bob", ChatUser("slack", "UDAVE"), again=again)

    assert admin_render.render(made, Marked()) == "@slack:UDAVE is linked to [dave]."
    text = admin_render.render(asked, Marked())
    assert text.endswith(" To do it, send `/capacity link @dave bob confirm`.")
    assert service.account("bob").slack_id == "UBOB"


def test_pages_split_a_long_table_between_rows_and_keep_every_row() -> None:
    service, _ = fake_service()
    for n in range(47):
        service.add_account(f"r1192{n:04d}", discord_id=str(5000 + n))
    view = admin_views.users_table(service, "x")

    pages = admin_render.pages(view, Marked(), 2000)

    assert len(pages) > 1 and all(len(page) <= 2000 for page in pages)
    rows = [line for page in pages for line in page.splitlines() if line.startswith("- ")]
    assert rows == admin_render.render(view, Marked()).splitlines()
    footers = [page.splitlines()[-1] for page in pages]
    assert footers[0] == f"(accounts 1-{pages[0].count('- [')} of 50)"
    assert all(re.fullmatch(r"\(accounts \d+-\d+ of 50\)", f) for f in footers)
    assert footers[-1].endswith("-50 of 50)")


def test_every_surface_shows_the_same_words_in_its_own_markup() -> None:
    service, _ = fake_service()
    service.add_account("bob", slack_id="UBOB", discord_id="1002")
    view = admin_views.users_table(service, "x")

    def plain(text: str) -> str:
        text = re.sub(r"<@(\w+)>", r"\1", text).replace("`", "").replace("*", "")
        return re.sub(r"(slack|discord) ", "", text).replace("• ", "")

    shown = [plain(admin_render.render(view, markup))
             for markup in (SlackMarkup(), DiscordMarkup(), Terminal())]
    assert shown[0] == shown[1] == shown[2]
    assert "bob: max cpus=8 memory=32 gpus=2, port -, UBOB, 1002" in shown[0]
