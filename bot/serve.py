"""`booking serve`: the scheduler, the configured chat adapters, and the terminal
chat when standard input is a terminal.

Runs until SIGTERM, SIGINT (Ctrl-C), in the terminal Ctrl-D, or until the
caller sets the `stop` event it passed in (signals reach only the main thread;
tests run serve in another one). Closed standard input (systemd, nohup) does
not stop it. Stopping leaves running containers alone: the next start
reconciles them.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from functools import partial
from types import FrameType
from typing import TextIO, cast

from bot.bootstrap import App, local_user
from bot.discord import discord_adapter_from_env
from bot.http_feeds import http_feeds_from_env
from bot.log_notifier import LogNotifier
from bot.metrics import Metrics
from bot.pool_health import start_heartbeat, start_pool_watch
from bot.slack import slack_adapter_from_env
from bot.terminal import run_chat
from core.chat import idle_words, lifecycle_messages, pool_words
from core.domain.passwords import PasswordDeriver
from core.domain.server_health import ServerHealth
from core.domain.zones import member_zone
from core.runtime.docker_runtime import DockerRuntime
from core.runtime.gpu_usage import NvmlUtilisation
from core.runtime.host_files import HostMemberFiles
from core.runtime.scheduler import Scheduler
from core.runtime.secret_file import load_secret
from core.runtime.ssh_probe import wait_for_ssh
from core.services.accounts import admin_names, utcnow
from core.services.idle_watch import IdleWatch
from core.services.lifecycle import Lifecycle
from core.services.outbox import OutboxSender
from core.services.pool import BookingPool
from core.services.pool_watch import PoolUnitOfWork, PoolWatch
from core.services.ports import SchedulerUnitOfWork
from storage.change_signal import change_feed
from storage.scheduler_lock import SchedulerLock, try_scheduler_lock
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)


class _Stop(Exception):
    """Raised in the main thread by the signal handler."""


def build_scheduler(app: App, stop: threading.Event, metrics: Metrics | None = None) -> Scheduler:
    """The scheduler with its lifecycle, outbox and idle watch (whose last sample
    `metrics`, when served, reports).

    In a pool, the host whose process runs chat adapters delivers every server's messages,
    and a host without them delivers none (they wait in the outbox for the chat host);
    alone, the one server's messages go to its adapters, or to the log without any."""
    assert app.environment is not None and app.engine is not None
    engine, server_id = app.engine, app.server_id
    uow = cast(Callable[[], SchedulerUnitOfWork], lambda: SqlUnitOfWork(engine, server_id))
    pool = app.service.config.is_pool
    pool_uow = cast(Callable[[], SchedulerUnitOfWork],
                    lambda: SqlUnitOfWork(engine, server_id, whole_pool=pool))
    env = app.environment
    passwords = PasswordDeriver(load_secret(env.booking_secret, env.booking_data_dir))
    runtime = DockerRuntime(base_url=env.docker_host, pull=app.config.images.pull)
    lifecycle = Lifecycle(config=app.config, uow=uow, runtime=runtime, passwords=passwords,
                          clock=utcnow, stop=stop, words=lifecycle_messages,
                          files=HostMemberFiles(), ssh_ready=wait_for_ssh,
                          freed=app.service.on(None).recheck_waitlist)  # a failed start frees room
    outbox = None if pool and not app.notifiers else OutboxSender(
        uow=pool_uow, passwords=passwords, notifiers=app.notifiers,
        fallback=("stdout", LogNotifier()), clock=utcnow)
    # Woken by a change made in any process: LISTEN/NOTIFY on PostgreSQL, SQLite's
    # data_version polled every second.
    # Idle GPUs: sampled every minute; an idle booking ends as the member's End does.
    idle = IdleWatch(config=app.config, uow=uow, gpus=NvmlUtilisation(), words=idle_words,
                     end=lambda booking_id: app.service.on(None).cancel(booking_id, actor=None),
                     clock=utcnow)
    if metrics is not None:
        metrics.watch_idle(idle.last_reading)
    return Scheduler(config=app.config, uow=uow, runtime=runtime, lifecycle=lifecycle,
                     outbox=outbox, clock=utcnow, changes=change_feed(engine, server_id),
                     idle=idle.sample)


def serve(app: App, *, stdin: TextIO | None = None, stop: threading.Event | None = None) -> int:
    """Run until stopped; the exit status (1 when the scheduler lock was lost)."""
    stdin = stdin or sys.stdin
    stop = stop or threading.Event()
    slack = slack_adapter_from_env(app)  # None without SLACK_BOT_TOKEN
    if slack is not None:
        app.notifiers.append(("slack", slack.notifier))
    discord = discord_adapter_from_env(app)  # None without DISCORD_TOKEN
    if discord is not None:
        app.notifiers.append(("discord", discord.notifier))
    feeds = http_feeds_from_env(app)  # None without BOOKING_HTTP_PORT: calendars, metrics
    if feeds is not None:
        app.conversation.calendar_link = feeds.link_for
    scheduler = build_scheduler(app, stop, feeds.metrics if feeds is not None else None)
    app.change_listeners.append(scheduler.changed)
    pool = app.service.config.is_pool

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # Only raise: setting `stop` here could deadlock when the signal lands
        # while the main thread holds the event's lock; `finally` sets it.
        raise _Stop(signal.Signals(signum).name)

    lost = threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, on_signal)
                for sig in (signal.SIGTERM, signal.SIGINT) if in_main_thread}
    lock: SchedulerLock | None = None
    try:
        if feeds is not None:
            feeds.start()
        lock = _wait_for_lock(app, stop)
        _watch_lock(app, lock, stop, lost, signal_self=in_main_thread)
        if pool:
            _watch_pool(app, stop)
        scheduler.start()
        if slack is not None:
            slack.start()
        if discord is not None:
            discord.start()
        log.info("booking serve is running for server %s", app.config.server.name)
        if stdin.isatty():
            user = app.service.ensure_local_admin(local_user())
            run_chat(app.conversation, user, stdin=stdin)
        else:
            while not stop.wait(3600):
                pass
    except (_Stop, KeyboardInterrupt) as reason:
        log.info("stopping (%s)", reason or "interrupt")
    finally:
        stop.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if slack is not None:
            slack.stop()
        if discord is not None:
            discord.stop()
        scheduler.stop()
        if feeds is not None:
            feeds.stop()
        if lock is not None:
            lock.release()
    return 1 if lost.is_set() else 0


def _watch_pool(app: App, stop: threading.Event) -> None:
    """A pool's host: beats for its server (which every host's pool watch reads), and
    watches the others' beats, telling admins and members when one goes quiet."""
    assert app.engine is not None
    engine, server_id, config = app.engine, app.server_id, app.config
    inventory = app.service.on(None).inventory
    start_heartbeat(engine, server_id, gpus=inventory.count, stop=stop, nvlinks=inventory.nvlinks)
    uow = cast(Callable[[], PoolUnitOfWork], lambda: SqlUnitOfWork(engine, server_id))
    watch = PoolWatch(uow=uow, words=pool_words,
                      clock=utcnow, admins=partial(admin_names, config=config),
                      zone=partial(member_zone, config=config), servers=config.server_names)
    pool = app.service

    def heard(health: list[ServerHealth]) -> None:
        if isinstance(pool, BookingPool):
            pool.heard(health)

    start_pool_watch(watch, stop, heard=heard)


def _watch_lock(
    app: App, lock: SchedulerLock, stop: threading.Event, lost: threading.Event, *,
    signal_self: bool,
) -> None:
    """Stop serving if the scheduler lock is lost to another `booking serve`."""
    assert app.engine is not None
    engine = app.engine

    def watch() -> None:
        while not stop.wait(app.config.scheduler.reconcile_seconds):
            if not lock.ensure(engine):
                log.error("another `booking serve` took the scheduler lock while this one had lost "
                          "its database connection; stopping so that only one scheduler acts")
                lost.set()
                stop.set()
                if signal_self:  # wake the terminal chat in the main thread
                    os.kill(os.getpid(), signal.SIGTERM)
                return

    threading.Thread(target=watch, name="scheduler-lock", daemon=True).start()


def _wait_for_lock(app: App, stop: threading.Event) -> SchedulerLock:
    assert app.engine is not None
    warned = False
    while True:
        lock = try_scheduler_lock(app.engine, app.server_id)
        if lock is not None:
            return lock
        if not warned:
            log.warning("another `booking serve` runs the scheduler for server %s; waiting",
                        app.config.server.name)
            warned = True
        if stop.wait(app.config.scheduler.reconcile_seconds):
            raise _Stop("stopped while waiting for the scheduler lock")
