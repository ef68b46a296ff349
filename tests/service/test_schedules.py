"""kiln.service.schedules: AWS cron/rate expressions, their firings, and AWS's errors."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kiln.errors import InvalidParameterValueException
from kiln.service import schedules

PREFIX = "The value supplied for parameter 'schedule.scheduleExpression' is not valid. Invalid schedule expression. Details: "


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def firings(expression: str, start: str, count: int, timezone: str | None = None) -> list[str | None]:
    """The next `count` firings after `start`, as ISO text in UTC (None once it stops)."""
    schedule = schedules.parse(expression, timezone)
    t, out = ts(start), []
    for _ in range(count):
        t = schedule.next_after(t)
        out.append(None if t is None else datetime.fromtimestamp(t, ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M"))
        if t is None:
            break
    return out


def local(expression: str, start: str, count: int, timezone: str) -> list[str]:
    schedule = schedules.parse(expression, timezone)
    t, out = ts(start), []
    for _ in range(count):
        t = schedule.next_after(t)
        out.append(datetime.fromtimestamp(t, ZoneInfo(timezone)).isoformat())
    return out


# --- the object -----------------------------------------------------------------------------------

def test_schedule_keeps_expression_and_timezone():
    s = schedules.parse("cron(0 9 ? * MON-FRI *)")
    assert (s.expression, s.timezone) == ("cron(0 9 ? * MON-FRI *)", "UTC")
    assert schedules.parse("rate(1 day)", "Europe/Berlin").timezone == "Europe/Berlin"


def test_next_after_is_strictly_after():
    s = schedules.parse("cron(0 6 * * ? *)")
    assert s.next_after(ts("2026-05-01T06:00:00+00:00")) == ts("2026-05-02T06:00:00+00:00")
    assert s.next_after(ts("2026-05-01T05:59:59.5+00:00")) == ts("2026-05-01T06:00:00+00:00")


# --- time zones and daylight saving -------------------------------------------------------------

def test_daily_in_berlin_across_spring_forward():
    assert firings("cron(0 6 * * ? *)", "2026-03-27T12:00:00+00:00", 4, "Europe/Berlin") == [
        "2026-03-28 05:00",  # CET
        "2026-03-29 04:00",  # CEST from 2026-03-29
        "2026-03-30 04:00",
        "2026-03-31 04:00",
    ]


def test_daily_in_berlin_across_fall_back():
    assert firings("cron(0 6 * * ? *)", "2026-10-23T12:00:00+00:00", 4, "Europe/Berlin") == [
        "2026-10-24 04:00",  # CEST
        "2026-10-25 05:00",  # CET from 2026-10-25
        "2026-10-26 05:00",
        "2026-10-27 05:00",
    ]
    assert local("cron(0 6 * * ? *)", "2026-10-23T12:00:00+00:00", 3, "Europe/Berlin") == [
        "2026-10-24T06:00:00+02:00",
        "2026-10-25T06:00:00+01:00",
        "2026-10-26T06:00:00+01:00",
    ]


def test_0230_is_skipped_on_the_spring_forward_day():
    # EventBridge Scheduler: a cron time that does not exist on the spring-forward day is skipped.
    assert local("cron(30 2 * * ? *)", "2026-03-27T12:00:00+00:00", 3, "Europe/Berlin") == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
    ]


def test_0230_fires_once_on_the_fall_back_day():
    # ...and a time the fall-back change repeats runs once (its first occurrence).
    assert firings("cron(30 2 * * ? *)", "2026-10-24T12:00:00+00:00", 3, "Europe/Berlin") == [
        "2026-10-25 00:30",  # 02:30 CEST
        "2026-10-26 01:30",  # 02:30 CET the next day; no second 02:30 on the 25th
        "2026-10-27 01:30",
    ]
    # Asked from inside the repeated hour's second pass, the day's firing is already behind.
    s = schedules.parse("cron(30 2 * * ? *)", "Europe/Berlin")
    assert s.next_after(ts("2026-10-25T01:10:00+00:00")) == ts("2026-10-26T01:30:00+00:00")


def test_hourly_runs_once_in_the_repeated_hour_and_skips_the_missing_one():
    assert local("cron(0 * * * ? *)", "2026-10-24T23:30:00+00:00", 3, "Europe/Berlin") == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T03:00:00+01:00",
        "2026-10-25T04:00:00+01:00",
    ]
    assert local("cron(0 * * * ? *)", "2026-03-29T00:30:00+00:00", 2, "Europe/Berlin") == [
        "2026-03-29T03:00:00+02:00",  # 01:30 CET -> 03:00 CEST: 02:00 does not exist
        "2026-03-29T04:00:00+02:00",
    ]


def test_other_zones():
    assert firings("cron(0 9 ? * MON-FRI *)", "2026-07-03T00:00:00+00:00", 2, "America/Los_Angeles") == [
        "2026-07-03 16:00",  # Friday 09:00 PDT
        "2026-07-06 16:00",  # Monday
    ]
    assert firings("cron(0 0 * * ? *)", "2026-01-01T00:00:00+00:00", 1, "Asia/Kolkata") == ["2026-01-01 18:30"]


# --- the syntax -----------------------------------------------------------------------------------

def test_weekdays_by_name():
    # 2026-01-01 is a Thursday.
    assert firings("cron(0 9 ? * MON-FRI *)", "2026-01-01T00:00:00+00:00", 4) == [
        "2026-01-01 09:00", "2026-01-02 09:00", "2026-01-05 09:00", "2026-01-06 09:00",
    ]
    assert firings("cron(0 18 ? * mon-fri *)", "2026-01-02T19:00:00+00:00", 1) == ["2026-01-05 18:00"]


def test_aws_day_numbers_are_sun_1_to_sat_7():
    assert firings("cron(0 9 ? * 1 *)", "2026-01-01T00:00:00+00:00", 1) == ["2026-01-04 09:00"]  # Sunday
    assert firings("cron(0 9 ? * 7 *)", "2026-01-01T00:00:00+00:00", 1) == ["2026-01-03 09:00"]  # Saturday
    assert firings("cron(0 9 ? * 2-6 *)", "2026-01-03T00:00:00+00:00", 1) == ["2026-01-05 09:00"]  # Monday


def test_last_day_of_month():
    assert firings("cron(0 12 L * ? *)", "2026-01-01T00:00:00+00:00", 4) == [
        "2026-01-31 12:00", "2026-02-28 12:00", "2026-03-31 12:00", "2026-04-30 12:00",
    ]
    assert firings("cron(0 12 L 2 ? *)", "2027-06-01T00:00:00+00:00", 1) == ["2028-02-29 12:00"]


def test_nearest_weekday():
    # 15 Jan 2026 Thursday; 15 Feb and 15 Mar Sundays -> Monday 16th; 15 Aug Saturday -> Friday 14th.
    assert firings("cron(0 12 15W * ? *)", "2026-01-01T00:00:00+00:00", 3) == [
        "2026-01-15 12:00", "2026-02-16 12:00", "2026-03-16 12:00",
    ]
    assert firings("cron(0 12 15W * ? *)", "2026-08-01T00:00:00+00:00", 1) == ["2026-08-14 12:00"]
    # 1W never leaves the month: 1 Aug 2026 is a Saturday -> Monday 3rd.
    assert firings("cron(0 12 1W * ? *)", "2026-07-31T00:00:00+00:00", 1) == ["2026-08-03 12:00"]
    # 31W skips months without a 31st; 31 May 2026 is a Sunday -> Friday 29th.
    assert firings("cron(0 12 31W * ? *)", "2026-04-01T00:00:00+00:00", 1) == ["2026-05-29 12:00"]


def test_last_weekday_of_month():
    # 31 Jan 2026 is a Saturday, 31 May a Sunday.
    assert firings("cron(0 12 LW * ? *)", "2026-01-01T00:00:00+00:00", 2) == ["2026-01-30 12:00", "2026-02-27 12:00"]
    assert firings("cron(0 12 LW 5 ? *)", "2026-01-01T00:00:00+00:00", 1) == ["2026-05-29 12:00"]


def test_nth_weekday():
    assert firings("cron(0 12 ? * 6#3 *)", "2026-01-01T00:00:00+00:00", 3) == [
        "2026-01-16 12:00", "2026-02-20 12:00", "2026-03-20 12:00",
    ]
    assert firings("cron(30 22 ? * tue#2 *)", "2026-01-01T00:00:00+00:00", 1) == ["2026-01-13 22:30"]
    # The user guide's "sat#2,4": the second and fourth Saturday.
    assert firings("cron(0 12 ? * sat#2,4 *)", "2026-01-01T00:00:00+00:00", 3) == [
        "2026-01-10 12:00", "2026-01-24 12:00", "2026-02-14 12:00",
    ]


def test_last_weekday_of_kind():
    assert firings("cron(0 12 ? * 6L *)", "2026-01-01T00:00:00+00:00", 3) == [
        "2026-01-30 12:00", "2026-02-27 12:00", "2026-03-27 12:00",
    ]
    assert firings("cron(0 12 ? * 5L *)", "2026-01-01T00:00:00+00:00", 1) == ["2026-01-29 12:00"]  # Thursday


def test_year_field():
    assert firings("cron(0 12 1 JAN ? 2027)", "2026-01-01T00:00:00+00:00", 2) == ["2027-01-01 12:00", None]
    assert firings("cron(0 12 * * ? 2020)", "2026-01-01T00:00:00+00:00", 1) == [None]
    assert firings("cron(0 0 1 1 ? 2026,2028-2029)", "2026-06-01T00:00:00+00:00", 3) == [
        "2028-01-01 00:00", "2029-01-01 00:00", None,
    ]
    assert firings("cron(0 0 1 1 ? 2026/5)", "2026-06-01T00:00:00+00:00", 1) == ["2031-01-01 00:00"]


def test_steps_ranges_and_lists():
    assert firings("cron(0/20 9-10 * * ? *)", "2026-01-01T00:00:00+00:00", 7) == [
        "2026-01-01 09:00", "2026-01-01 09:20", "2026-01-01 09:40",
        "2026-01-01 10:00", "2026-01-01 10:20", "2026-01-01 10:40", "2026-01-02 09:00",
    ]
    assert firings("cron(15 */6 * * ? *)", "2026-01-01T00:30:00+00:00", 3) == [
        "2026-01-01 06:15", "2026-01-01 12:15", "2026-01-01 18:15",
    ]
    assert firings("cron(0 8 1,15 jan,jul ? *)", "2026-01-02T00:00:00+00:00", 3) == [
        "2026-01-15 08:00", "2026-07-01 08:00", "2026-07-15 08:00",
    ]
    assert firings("cron(0 8 */10 * ? *)", "2026-01-02T00:00:00+00:00", 3) == [
        "2026-01-11 08:00", "2026-01-21 08:00", "2026-01-31 08:00",
    ]
    # Ranges wrap as in Quartz: hours 22-1, FRI-MON.
    assert firings("cron(0 22-1 * * ? *)", "2026-01-01T12:00:00+00:00", 4) == [
        "2026-01-01 22:00", "2026-01-01 23:00", "2026-01-02 00:00", "2026-01-02 01:00",
    ]
    assert firings("cron(0 9 ? * FRI-MON *)", "2026-01-05T12:00:00+00:00", 4) == [
        "2026-01-09 09:00", "2026-01-10 09:00", "2026-01-11 09:00", "2026-01-12 09:00",
    ]


def test_guide_examples_parse():
    for expression in [
        "cron(0 10 * * ? *)", "cron(15 12 * * ? *)", "cron(0 0 * * ? *)", "cron(0 10 ? * 1-5 *)",
        "cron(0 18 ? * mon-fri *)", "cron(0 8 1 * ? *)", "cron(30 22 ? * tue#2 *)",
    ]:
        assert schedules.parse(expression).next_after(0) is not None


def test_a_date_that_never_exists_never_fires():
    start = ts("2026-01-01T00:00:00+00:00")
    assert schedules.parse("cron(0 0 30 2 ? *)").next_after(start) is None
    assert schedules.parse("cron(0 0 31W 2,4 ? *)").next_after(start) is None
    assert schedules.parse("cron(0 0 29 2 ? 2101-2103)").next_after(start) is None  # no leap year among them
    assert firings("cron(0 0 30W 2,4 ? 2199)", "2026-01-01T00:00:00+00:00", 2) == ["2199-04-30 00:00", None]


# --- rate -----------------------------------------------------------------------------------------

def test_rate_fires_one_period_after_the_given_time():
    start = ts("2026-03-28T10:17:00+00:00")
    day = schedules.parse("rate(1 day)", "Europe/Berlin")
    assert day.next_after(start) == start + 86400  # 24 hours, across the DST change too
    assert schedules.parse("rate(5 hours)").next_after(start) == start + 5 * 3600
    assert schedules.parse("rate(1 minute)").next_after(start) == start + 60
    assert schedules.parse("rate(15minutes)").next_after(start) == start + 900
    assert schedules.parse("rate(2 days)").kind == "rate"


# --- errors ---------------------------------------------------------------------------------------

def rejected(expression: str, timezone: str | None = None) -> str:
    with pytest.raises(InvalidParameterValueException) as caught:
        schedules.parse(expression, timezone)
    assert caught.value.code == "InvalidParameterValueException" and caught.value.status == 400
    return caught.value.message


def cron_error(position: int, detail: str) -> str:
    return PREFIX + f"Invalid CRON expression: error at position {position}, details: {detail}"


def test_five_fields_is_the_real_services_message():
    # Quoted from the real service (hashicorp/terraform-provider-aws#17396).
    assert rejected("cron(0 0 * * ?)") == cron_error(9, "Unexpected end of expression.")
    assert rejected("cron()") == cron_error(0, "Unexpected end of expression.")


def test_seven_fields():
    assert rejected("cron(0 0 0 * * ? *)") == cron_error(12, "Unexpected text after the year field: '*'")


def test_day_fields():
    both = "Support for specifying both a day-of-week AND a day-of-month parameter is not implemented."
    assert rejected("cron(0 6 1 * MON *)") == cron_error(0, both)
    assert rejected("cron(0 6 * * * *)") == cron_error(0, both)
    assert rejected("cron(0 6 ? * ? *)") == cron_error(8, "'?' can only be specified for Day-of-Month -OR- Day-of-Week.")
    assert rejected("cron(0 ? * * ? *)") == cron_error(2, "'?' can only be specified for Day-of-Month or Day-of-Week.")
    assert rejected("cron(0 6 ?1 * * *)") == cron_error(4, "Illegal character after '?': 1")


def test_bad_names():
    assert rejected("cron(0 6 * FOO ? *)") == cron_error(6, "Invalid Month value: 'FOO'")
    assert rejected("cron(0 6 ? * FUNDAY *)") == cron_error(8, "Invalid Day-of-Week value: 'FUNDAY'")
    assert rejected("cron(MON 6 * * ? *)") == cron_error(0, "Illegal characters for this position: 'MON'")


def test_out_of_range_values():
    assert rejected("cron(60 6 * * ? *)") == cron_error(0, "Minute and Second values must be between 0 and 59")
    assert rejected("cron(0 24 * * ? *)") == cron_error(2, "Hour values must be between 0 and 23")
    assert rejected("cron(0 6 32 * ? *)") == cron_error(4, "Day of month values must be between 1 and 31")
    assert rejected("cron(0 6 0 * ? *)") == cron_error(4, "Day of month values must be between 1 and 31")
    assert rejected("cron(0 6 * 13 ? *)") == cron_error(6, "Month values must be between 1 and 12")
    assert rejected("cron(0 6 ? * 0 *)") == cron_error(8, "Day-of-Week values must be between 1 and 7")
    assert rejected("cron(0 6 ? * 8 *)") == cron_error(8, "Day-of-Week values must be between 1 and 7")
    assert rejected("cron(0 6 * * ? 1969)") == cron_error(10, "Year values must be between 1970 and 2199")
    assert rejected("cron(0/61 6 * * ? *)") == cron_error(0, "Increment > 60 : 61")


def test_special_characters_out_of_place():
    assert rejected("cron(0 6 ? * 6#6 *)") == cron_error(8, "A numeric value between 1 and 5 must follow the '#' option")
    assert rejected("cron(0 6 6#3 * ? *)") == cron_error(4, "'#' option is not valid here. (pos=1)")
    assert rejected("cron(0 6L * * ? *)") == cron_error(2, "'L' option is not valid here. (pos=1)")
    assert rejected("cron(0 6 ? * 2W *)") == cron_error(8, "'W' option is not valid here. (pos=1)")
    assert rejected("cron(0 6 15W,L * ? *)") == cron_error(
        4, "Support for specifying 'L' and 'LW' with other days of the month is not implemented"
    )
    assert rejected("cron(0 6 ? * 5L,1 *)") == cron_error(8, "Support for specifying 'L' with other days of the week is not implemented")
    assert rejected("cron(0 6 32W * ? *)") == cron_error(
        4, "The 'W' option does not make sense with values larger than 31 (max number of days in a month)"
    )
    assert rejected("cron(5/ * * * ? *)") == cron_error(0, "'/' must be followed by an integer.")


def test_not_a_schedule_expression():
    syntax = (
        "Schedule expressions must have the following syntax: "
        "rate(<number>\\s?(minutes?|hours?|days?)), cron(<cron_expression>) or at(yyyy-MM-dd'T'HH:mm:ss)."
    )
    assert rejected("0 6 * * ? *") == PREFIX + syntax
    assert rejected("rate(5 weeks)") == PREFIX + syntax
    assert rejected(" cron(0 6 * * ? *)") == PREFIX + syntax
    assert rejected("at(2026-01-01T00:00:00)") == PREFIX + "One-time at() schedules are not supported for image pipelines."


def test_bad_rates():
    assert rejected("rate(0 days)") == PREFIX + "Invalid RATE expression: the value must be a positive integer."
    assert rejected("rate(1 days)") == PREFIX + "Invalid RATE expression: the unit must be 'day' for a value of 1 and 'days' for larger values."
    assert rejected("rate(5 hour)") == PREFIX + "Invalid RATE expression: the unit must be 'hour' for a value of 1 and 'hours' for larger values."


def test_unknown_timezone():
    for name in ["Mars/Olympus", "Europe", "../etc/passwd", ""]:
        assert rejected("cron(0 6 * * ? *)", name) == (
            f"The value supplied for parameter 'schedule.timezone' is not valid. '{name}' is not a valid IANA time zone."
        )


def test_param_name_is_the_callers():
    with pytest.raises(InvalidParameterValueException) as caught:
        schedules.parse("cron(0 0 * * ?)", param="scheduleExpression")
    assert caught.value.message.startswith("The value supplied for parameter 'scheduleExpression' is not valid.")
