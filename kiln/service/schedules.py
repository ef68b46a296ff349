"""Image pipeline schedules: AWS's cron and rate expressions, parsed, validated and evaluated.

`parse(expression, timezone)` gives a `Schedule`; `Schedule.next_after(epoch)` gives the first
firing strictly after `epoch` (UTC seconds), or None when the expression never fires again.

Syntax (Image Builder user guide, "Use cron expressions in Image Builder"):

* `cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)`, six fields separated by
  spaces. Minutes 0-59, hours 0-23, day-of-month 1-31 (`, - * ? / L W`), month 1-12 or JAN-DEC,
  day-of-week 1-7 or SUN-SAT (`, - * ? L #`), year 1970-2199. Names are case-insensitive (the
  guide writes `mon-fri`, `tue#2`). Exactly one of day-of-month / day-of-week is `?` ("You can't
  specify the Day-of-month and Day-of-week fields in the same cron expression. If you specify a
  value or `*` in one of these fields, you must use a `?` in the other").
* AWS numbers days of the week 1-7 = SUN-SAT (standard cron: 0-6); `L` alone in day-of-week is 7
  (every Saturday, as in Quartz), `5L` is the last Thursday of the month, `6#3` the third Friday.
  The guide's `sat#2,4` ("the second and fourth Saturday") is read as the guide says; otherwise
  the items of a list are independent (`2,6#3`).
* `15W` is the weekday nearest the 15th without leaving the month, `LW` the month's last weekday.
* Ranges may wrap (`FRI-MON`, hours `22-2`) as in Quartz, which AWS's parser derives from.
* Frequency: the guide's only limit is "Cron expressions that lead to rates faster than one
  minute are not supported", which a minutes field cannot express anyway; so nothing more is
  enforced (the older guide's "wildcards are not permitted in the minute or hour field" was
  withdrawn with the five-field syntax in 2021).
* `rate(<value> <unit>)`, the form the model's Schedule.scheduleExpression names ("a rate
  expression such as rate(1 day)"): unit minute(s), hour(s) or day(s), singular for 1 and plural
  otherwise (EventBridge's rule: `rate(1 days)` and `rate(5 day)` are refused), value >= 1.
  A day is 24 hours whatever the time zone (EventBridge Scheduler: "days represents a 24-hour
  duration"). **First firing**: one period after the moment the schedule is set, and each later
  firing one period after the previous one: `next_after(t) = t + period`. Callers pass the time
  the schedule was set (create/update) and then each firing time; passing "now" at random moments
  would drift. No build at creation itself: a new pipeline reports a `dateNextRun` in the future.

Time zones: IANA names through `zoneinfo`; the expression is evaluated on the wall clock of the
schedule's zone. Daylight saving follows EventBridge Scheduler's documented rule (AWS knowledge
center, "adjust my EventBridge schedule for daylight saving"): "When the time shifts forward in
Spring, your schedule invocation gets skipped if the cron expression falls on a non-existent date
and time. When the time shifts back in the Fall, your schedule runs only once" -- so a 02:30 daily
job in Europe/Berlin does not run on 2026-03-29 and runs once (the first 02:30) on 2026-10-25,
and an hourly job runs once in the repeated hour.

Library: the date arithmetic is cronsim's (https://github.com/cuu508/cronsim), iterated over naive
local wall-clock times, with this module's adapter turning the instants into UTC by the rule
above. cronsim was chosen over croniter because it evaluates `L`, `LW`, `nL` and `#` (croniter
7.0 has no `5L`) and its iteration is correct around DST changes (croniter 7.0 fires a 02:30
Europe/Berlin job twice on 2026-10-25). cronsim lacks what is AWS-only: `?` (given to cronsim as
`*`, which is what it means once the other day field is set), `nW` and the year field, which are
filters over cronsim's candidate times, jumping to the next possible day/year, with a bounded
search. The AWS syntax is parsed here (not by cronsim) because errors must carry AWS's wording.

Errors: InvalidParameterValueException, "The value supplied for parameter
'schedule.scheduleExpression' is not valid. Invalid schedule expression. Details: Invalid CRON
expression: error at position N, details: <detail>". That shape is the real service's (quoted in
hashicorp/terraform-provider-aws#17396 and buildkite/image-builder#7 for `cron(0 0 * * ?)`:
"error at position 9, details: Unexpected end of expression." -- 9 is the length of the text
inside `cron(...)`). The details are Quartz CronExpression's wording, the parser family AWS's
messages come from, where Quartz has a message for the case; the position is the offset inside
`cron(...)` of the offending field (the end of the text for a missing field, 0 for both day
fields given, as Quartz reports them). Expressions that are neither cron() nor rate() get the
wording AWS's shared schedule-expression parser gives ("Invalid schedule expression. Details:
Schedule expressions must have the following syntax: ..." as Application Auto Scaling answers it).
Messages for cases none of those sources shows (seven fields, a bad rate, a year out of range,
an unknown time zone) are kiln's, in the same shape.
"""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from kiln.errors import invalid_value

__all__ = ["Schedule", "parse"]

_UTC = dt_timezone.utc
_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
_DAYS = "SUN MON TUE WED THU FRI SAT".split()

_RATE = re.compile(r"rate\((\d+)\s?(minutes?|hours?|days?)\)")
_CRON = re.compile(r"cron\((.*)\)", re.DOTALL)
_RATE_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_SYNTAX = (
    "Schedule expressions must have the following syntax: "
    "rate(<number>\\s?(minutes?|hours?|days?)), cron(<cron_expression>) or at(yyyy-MM-dd'T'HH:mm:ss)."
)
_SEARCH_LIMIT = 20_000  # candidate times examined by one next_after before giving up (None)
_LAST_YEAR = 2199  # the year field's end: nothing is searched for beyond it

# Per field: (name, low, high, names, out-of-range message, largest increment, increment message).
_MINUTE, _HOUR, _DOM, _MONTH, _DOW, _YEAR = range(6)
_FIELDS = [
    ("minutes", 0, 59, None, "Minute and Second values must be between 0 and 59", 59, "Increment > 60 : {}"),
    ("hours", 0, 23, None, "Hour values must be between 0 and 23", 23, "Increment > 24 : {}"),
    ("day-of-month", 1, 31, None, "Day of month values must be between 1 and 31", 31, "Increment > 31 : {}"),
    ("month", 1, 12, _MONTHS, "Month values must be between 1 and 12", 12, "Increment > 12 : {}"),
    ("day-of-week", 1, 7, _DAYS, "Day-of-Week values must be between 1 and 7", 7, "Increment > 7 : {}"),
    ("year", 1970, 2199, None, "Year values must be between 1970 and 2199", None, ""),  # Quartz: no year increment limit
]


class _CronError(Exception):
    def __init__(self, position: int, detail: str):
        super().__init__(detail)
        self.position = position
        self.detail = detail


class Schedule:
    """A parsed schedule expression in a time zone."""

    __slots__ = ("expression", "timezone", "kind", "period", "_zone", "_cronsim", "_years", "_nearest_weekday", "_never")

    def __init__(self, expression: str, timezone: str, zone: ZoneInfo):
        self.expression = expression
        self.timezone = timezone
        self._zone = zone
        self.kind = "cron"  # or "rate"
        self.period: float | None = None  # seconds between firings of a rate
        self._cronsim = ""  # the five-field expression handed to cronsim
        self._years: frozenset[int] | None = None  # None: any year
        self._nearest_weekday: int | None = None  # nW: W's day of month
        self._never = False  # cronsim proved no date matches (e.g. 30 in February only)

    def __repr__(self) -> str:
        return f"Schedule({self.expression!r}, timezone={self.timezone!r})"

    def next_after(self, epoch: float) -> float | None:
        """The first firing strictly after `epoch` (seconds since the epoch, UTC), or None if the
        expression never fires again (e.g. a year field in the past)."""
        if self.period is not None:
            return epoch + self.period
        if self._never:
            return None
        zone = self._zone
        wall = datetime.fromtimestamp(epoch, zone).replace(tzinfo=None)
        years = self._years
        if years is not None and wall.year > max(years):
            return None
        candidates = CronSim(self._cronsim, wall)
        for _ in range(_SEARCH_LIMIT):
            try:
                candidate = next(candidates)
            except (StopIteration, OverflowError):  # cronsim found nothing in 50 years, or ran off the calendar
                return None
            if candidate.year > _LAST_YEAR:
                return None
            if years is not None and candidate.year not in years:
                later = [y for y in years if y > candidate.year]
                if not later:
                    return None
                candidates = CronSim(self._cronsim, datetime(min(later), 1, 1) - timedelta(seconds=1))
                continue
            if self._nearest_weekday is not None:
                target = _nearest_weekday(candidate.year, candidate.month, self._nearest_weekday)
                if candidate.date() != target:
                    if target is not None and candidate.date() < target:
                        resume = datetime.combine(target, time()) - timedelta(seconds=1)
                    else:
                        resume = datetime.combine(_first_of_next_month(candidate.date()), time()) - timedelta(seconds=1)
                    candidates = CronSim(self._cronsim, resume)
                    continue
            local = candidate.replace(tzinfo=zone, fold=0)
            if local.astimezone(_UTC).astimezone(zone).replace(tzinfo=None) != candidate:
                continue  # a wall-clock time the spring-forward change skips: no firing
            instant = local.timestamp()
            if instant <= epoch:
                continue  # the first pass of a repeated (fall-back) hour, already behind us
            return instant
        return None


def parse(expression: str, timezone: str | None = None, param: str = "schedule.scheduleExpression") -> Schedule:
    """Validate and parse; raise kiln.errors.InvalidParameterValueException with the real service's
    wording for a bad expression or an unknown timezone (param "schedule.timezone" for that)."""
    if not isinstance(expression, str):
        raise invalid_value(param, f"Invalid schedule expression. Details: {_SYNTAX}")
    rate = _RATE.fullmatch(expression)
    cron = None if rate else _CRON.fullmatch(expression)
    if rate is None and cron is None:
        if expression.startswith("at(") and expression.endswith(")"):
            raise invalid_value(param, "Invalid schedule expression. Details: One-time at() schedules are not supported for image pipelines.")
        raise invalid_value(param, f"Invalid schedule expression. Details: {_SYNTAX}")

    spec = None
    if cron is not None:
        try:
            spec = _parse_cron(cron.group(1))
        except _CronError as e:
            raise invalid_value(
                param,
                f"Invalid schedule expression. Details: Invalid CRON expression: error at position {e.position}, details: {e.detail}",
            ) from None
    else:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            raise invalid_value(param, "Invalid schedule expression. Details: Invalid RATE expression: the value must be a positive integer.")
        singular = unit.rstrip("s")
        if (value == 1) != (unit == singular):
            raise invalid_value(
                param,
                f"Invalid schedule expression. Details: Invalid RATE expression: the unit must be '{singular}' "
                f"for a value of 1 and '{singular}s' for larger values.",
            )

    name = "UTC" if timezone is None else timezone
    zone = _zone(name)
    schedule = Schedule(expression, name, zone)
    if rate is not None:
        schedule.kind = "rate"
        schedule.period = float(value * _RATE_SECONDS[singular])
        return schedule
    schedule._cronsim, schedule._years, schedule._nearest_weekday = spec
    if schedule._nearest_weekday is not None:
        months = [int(m) for m in schedule._cronsim.split()[3].split(",")] if schedule._cronsim.split()[3] != "*" else range(1, 13)
        if schedule._nearest_weekday > max(calendar.monthrange(2000, m)[1] for m in months):
            schedule._never = True  # 31W in February and April only: no such day
    try:
        CronSim(schedule._cronsim, datetime(2000, 1, 1))
    except CronSimError:
        # cronsim refuses a day-of-month that no chosen month has (30 in February): it never fires.
        schedule._never = True
    return schedule


def _zone(name: str) -> ZoneInfo:
    try:
        if not isinstance(name, str) or not name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise invalid_value("schedule.timezone", f"'{name}' is not a valid IANA time zone.") from None


# --- cron: AWS's six fields -> a five-field cronsim expression plus the year and W filters ---------

def _parse_cron(text: str) -> tuple[str, frozenset[int] | None, int | None]:
    tokens = [(m.start(), m.group()) for m in re.finditer(r"\S+", text)]
    if len(tokens) < 6:
        raise _CronError(len(text), "Unexpected end of expression.")
    if len(tokens) > 6:
        raise _CronError(tokens[6][0], f"Unexpected text after the year field: '{tokens[6][1]}'")
    fields = [(pos, tok.upper()) for pos, tok in tokens]

    dom_pos, dom = fields[_DOM]
    dow_pos, dow = fields[_DOW]
    for field, (pos, tok) in enumerate(fields):
        if "?" in tok:
            if field not in (_DOM, _DOW):
                raise _CronError(pos, "'?' can only be specified for Day-of-Month or Day-of-Week.")
            if tok != "?":
                after = tok[tok.index("?") + 1 : tok.index("?") + 2] or tok[0]
                raise _CronError(pos, f"Illegal character after '?': {after}")
    if dom == "?" and dow == "?":
        raise _CronError(dow_pos, "'?' can only be specified for Day-of-Month -OR- Day-of-Week.")
    if dom != "?" and dow != "?":
        raise _CronError(0, "Support for specifying both a day-of-week AND a day-of-month parameter is not implemented.")

    minutes = _plain(_MINUTE, *fields[_MINUTE])
    hours = _plain(_HOUR, *fields[_HOUR])
    months = _plain(_MONTH, *fields[_MONTH])
    years = None if fields[_YEAR][1] == "*" else frozenset(_values(_YEAR, *fields[_YEAR]))

    nearest = None
    if dom == "?":
        dom_cronsim = "*"
        dow_cronsim = _day_of_week(dow_pos, dow)
    else:
        dow_cronsim = "*"
        dom_cronsim, nearest = _day_of_month(dom_pos, dom)
    return f"{minutes} {hours} {dom_cronsim} {months} {dow_cronsim}", years, nearest


def _plain(field: int, pos: int, tok: str) -> str:
    if tok == "*":
        return "*"
    return ",".join(str(v) for v in sorted(_values(field, pos, tok)))


def _values(field: int, pos: int, tok: str) -> set[int]:
    """The values of a field of plain items: `*`, `a`, `a-b`, `a/n`, `a-b/n`, `*/n`, lists."""
    result: set[int] = set()
    for item in tok.split(","):
        result.update(_item(field, pos, item))
    return result


def _item(field: int, pos: int, item: str) -> list[int]:
    _, low, high, _, _, max_incr, incr_msg = _FIELDS[field]
    base, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not step_text.isdigit():
            raise _CronError(pos, "'/' must be followed by an integer.")
        step = int(step_text)
        if max_incr is not None and step > max_incr:
            raise _CronError(pos, incr_msg.format(step))
        if step == 0:
            raise _CronError(pos, "Increment must be a positive integer: 0")
    if base in ("*", ""):
        if base == "" and not slash:
            raise _CronError(pos, f"Illegal characters for this position: '{item}'")
        start, end = low, high
    elif "-" in base:
        first, _, last = base.partition("-")
        start, end = _value(field, pos, first), _value(field, pos, last)
    else:
        start = _value(field, pos, base)
        end = high if slash else start
    if start <= end:
        return list(range(start, end + 1, step))
    span = high - low + 1  # a range that wraps: FRI-MON, 22-2
    return [low + (start - low + k) % span for k in range(0, (end + span) - start + 1, step)]


def _value(field: int, pos: int, text: str) -> int:
    _, low, high, names, range_msg, _, _ = _FIELDS[field]
    if text.isdigit():
        value = int(text)
        if not low <= value <= high:
            raise _CronError(pos, range_msg)
        return value
    if text.isalpha() and names is not None:
        if text in names:
            return names.index(text) + 1
        raise _CronError(pos, f"Invalid {'Month' if field == _MONTH else 'Day-of-Week'} value: '{text}'")
    for option in "LW#":
        if option in text:
            raise _CronError(pos, f"'{option}' option is not valid here. (pos={text.index(option)})")
    raise _CronError(pos, f"Illegal characters for this position: '{text}'")


def _day_of_month(pos: int, tok: str) -> tuple[str, int | None]:
    if "L" in tok or "W" in tok:
        if "," in tok:
            raise _CronError(pos, "Support for specifying 'L' and 'LW' with other days of the month is not implemented")
        if tok in ("L", "LW"):
            return tok, None
        match = re.fullmatch(r"(\d+)W", tok)
        if match is None:
            option = "W" if "W" in tok else "L"
            raise _CronError(pos, f"'{option}' option is not valid here. (pos={tok.index(option)})")
        day = int(match.group(1))
        if day > 31:
            raise _CronError(pos, "The 'W' option does not make sense with values larger than 31 (max number of days in a month)")
        if day < 1:
            raise _CronError(pos, _FIELDS[_DOM][4])
        return "*", day
    if "#" in tok:
        raise _CronError(pos, f"'#' option is not valid here. (pos={tok.index('#')})")
    return _plain(_DOM, pos, tok), None


def _day_of_week(pos: int, tok: str) -> str:
    """AWS's day-of-week (1-7 = SUN-SAT) as cronsim's (0-6 = SUN-SAT)."""
    if tok == "*":
        return "*"
    bare = re.sub("|".join(_DAYS), "", tok)  # WED has a W
    if "W" in bare:
        raise _CronError(pos, f"'W' option is not valid here. (pos={tok.index('W')})")
    if "L" in bare:
        if "," in tok:
            raise _CronError(pos, "Support for specifying 'L' with other days of the week is not implemented")
        if tok == "L":
            return "6"  # L alone is 7: Saturday
        day = _value(_DOW, pos, tok[:-1]) if tok.endswith("L") and tok[:-1] else None
        if day is None:
            raise _CronError(pos, f"'L' option is not valid here. (pos={tok.index('L')})")
        return f"{day - 1}L"
    guide_form = re.fullmatch(r"([A-Z]+|\d+)#(\d+(?:,\d+)+)", tok)  # sat#2,4: the 2nd and 4th Saturday
    items = [f"{guide_form.group(1)}#{n}" for n in guide_form.group(2).split(",")] if guide_form else tok.split(",")
    out: list[str] = []
    for item in items:
        if "#" in item:
            day_text, _, nth = item.partition("#")
            day = _value(_DOW, pos, day_text)
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                raise _CronError(pos, "A numeric value between 1 and 5 must follow the '#' option")
            out.append(f"{day - 1}#{int(nth)}")
        else:
            out.extend(str(v - 1) for v in sorted(_item(_DOW, pos, item)))
    return ",".join(dict.fromkeys(out))


def _nearest_weekday(year: int, month: int, day: int) -> date | None:
    """Quartz's `nW`: the weekday nearest the day, within the month; None if the month is shorter."""
    last = calendar.monthrange(year, month)[1]
    if day > last:
        return None
    target = date(year, month, day)
    weekday = target.weekday()  # Monday 0 .. Sunday 6
    if weekday == 5:  # Saturday: Friday before, or Monday after when the 1st
        return target - timedelta(days=1) if day > 1 else target + timedelta(days=2)
    if weekday == 6:  # Sunday: Monday after, or Friday before when the last day
        return target + timedelta(days=1) if day < last else target - timedelta(days=2)
    return target


def _first_of_next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)
