"""The one place that reads the wall clock, so tests can move time (session expiry, break-glass, lockout), and
the one place that knows China's time zone: every "today", every due day's end, every year of a number."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")
"""All of China keeps one time zone (UTC+8, no daylight saving): a county's "today" is the date there."""

END_OF_DAY = time(23, 59, 59)


class Clock:
    """Wall-clock UTC time plus an offset that only tests change."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta

    def reset(self) -> None:
        self.offset = timedelta(0)


clock = Clock()


def utc_now() -> datetime:
    return clock.now()


def china_day(moment: datetime) -> date:
    """The date in China of an aware moment."""
    return moment.astimezone(CHINA).date()


def china_today() -> date:
    """Today's date in China."""
    return china_day(utc_now())


def start_of_day(day: date) -> datetime:
    """00:00 China time on `day`, in UTC."""
    return datetime.combine(day, time(), CHINA).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """23:59:59 China time on `day`, in UTC: the moment every deadline of that day falls due."""
    return datetime.combine(day, END_OF_DAY, CHINA).astimezone(UTC)
