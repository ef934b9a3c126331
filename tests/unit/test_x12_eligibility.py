"""270 out and 271 in (005010X279A1): genuine samples, round trips, x12sdk, bad answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handbill.core.eligibility_values import Benefit, EligibilityAnswer, Member
from handbill.core.money import Cents
from handbill.core.outbound import OutboundError
from handbill.core.policy import read_shipped_policies
from handbill.core.sandbox_eligibility import answer
from handbill.x12.eligibility import (
    EligibilityReadError,
    read_270,
    read_271,
    request_problems,
    write_270,
    write_271,
)
from handbill.x12.writer import Separators
from tests.unit import eligibility_factory as f

SAMPLES = Path("/work/shared/x12-samples")
GENERIC_270 = "X279-generic-request-by-clinic-for-patient-(subscriber)-eligibility.edi"
GENERIC_271 = "X279-response-to-generic-request-by-clinic-for-patient-(subscriber)-eligibility.edi"
POLICIES = {p.profile: p for p in read_shipped_policies()}


def policy(profile: str):
    return POLICIES[profile].for_date(f.SERVICE_DATE)


def x12sdk_models(text: str) -> list[str]:
    """x12sdk's reading of ``text``: the model class of each transaction set."""
    from x12sdk.io import X12ModelReader

    with X12ModelReader(text) as reader:
        return [type(model).__name__ for model in reader.models()]


def segments(text: str) -> list[list[str]]:
    return [s.strip("\r\n").split("*") for s in text.split("~") if s.strip("\r\n")]


def sandbox_271(member_id: str = "EVH123456789", profile: str = "evergreen-health-ppo",
                payer_type: str = "commercial", **changes: object) -> str:
    asked = f.request(subscriber=f.subscriber(member_id=member_id), **changes)
    reply = answer(asked, policy=policy(profile), payer_type=payer_type, visits_used=8)
    return write_271([reply], f.envelope())


# --- genuine samples ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [GENERIC_270, "subscriber-health-benefit-check.270"])
def test_genuine_270_samples_read(name):
    inquiry = read_270((SAMPLES / name).read_text(encoding="ascii"))
    [asked] = inquiry.requests
    assert asked.trace_number == "93175-012547" and asked.originator_id == "9877281234"
    assert (asked.payer_name, asked.payer_id) == ("ABC COMPANY", "842610001")
    assert asked.provider.organization_name == "BONE AND JOINT CLINIC"
    assert (asked.provider.id_qualifier, asked.provider.identifier) == ("SV", "2000035")
    assert asked.subscriber == Member("SMITH", "ROBERT", member_id="11122333301",
                                      birth_date=date(1943, 5, 19))
    assert asked.service_date == date(2006, 5, 1) and asked.service_types == ("30",)
    assert inquiry.references == ("10001234",)


@pytest.mark.parametrize("name", [GENERIC_271, "subscriber-health-benefit-check.271"])
def test_genuine_271_samples_read(name):
    response = read_271((SAMPLES / name).read_text(encoding="ascii"))
    [reply] = response.answers
    assert reply.trace_number == "93175-012547" and reply.reference == "10001234"
    assert reply.subscriber.member_id == "123456789"
    assert reply.subscriber.birth_date == date(1963, 5, 19) and reply.subscriber.sex == "M"
    assert [(d.qualifier, d.start) for d in reply.dates] == [("346", date(2006, 1, 1))]
    assert [b.code for b in reply.benefits] == ["1", "L", "1", "B", "B"]
    # EB03 repeats with the file's own repetition separator (> in one sample, ^ in the other).
    assert reply.benefits[2].service_types == ("1", "33", "35", "47", "86", "88", "98", "AL",
                                               "MH", "UC")
    copays = [(b.amount, b.in_network, b.period) for b in reply.benefits if b.code == "B"]
    assert copays == [(Cents(1000), "Y", "27"), (Cents(3000), "N", "27")]
    assert reply.benefits[0].plan == "GOLD 123 PLAN"


def test_genuine_samples_are_what_x12sdk_reads_too():
    for name in (GENERIC_270, GENERIC_271):
        assert x12sdk_models((SAMPLES / name).read_text(encoding="ascii"))


# --- our 270 -------------------------------------------------------------------------------------


def test_270_layout_for_a_subscriber():
    text = write_270(f.request(), f.envelope())
    assert [s[0] for s in segments(text)] == [
        "ISA", "GS", "ST", "BHT", "HL", "NM1", "HL", "NM1", "PRV", "HL", "TRN", "NM1", "REF",
        "DMG", "DTP", "EQ", "EQ", "EQ", "EQ", "SE", "GE", "IEA",
    ]
    found = {s[0] + (s[1] if s[0] in ("HL", "NM1") else ""): s for s in segments(text)}
    assert found["BHT"] == ["BHT", "0022", "13", "E000000041", "20261123", "0930"]
    assert found["HL3"] == ["HL", "3", "2", "22", "0"]
    assert found["TRN"] == ["TRN", "1", "E000000041", "1123456789"]
    assert found["NM1IL"] == ["NM1", "IL", "1", "SAMPLE", "JORDAN", "Q", "", "", "MI",
                              "EVH123456789"]
    assert found["PRV"] == ["PRV", "PE", "PXC", "225700000X"]
    assert found["DTP"] == ["DTP", "291", "D8", "20261124"]
    assert [s[1] for s in segments(text) if s[0] == "EQ"] == ["30", "AE", "PT", "BE"]
    assert found["SE"] == ["SE", "18", "0041"]
    assert found["GS"][1] == "HS" and found["GS"][8] == "005010X279A1"


def test_270_for_a_dependent_puts_trace_and_inquiry_in_the_dependent_loop():
    text = write_270(f.request(dependent=f.dependent()), f.envelope())
    tags = [s[0] + (s[1] if s[0] in ("HL", "NM1") else "") for s in segments(text)]
    assert tags[9:] == ["HL3", "NM1IL", "REF", "DMG", "HL4", "TRN", "NM103", "DMG", "INS",
                        "DTP", "EQ", "EQ", "EQ", "EQ", "SE", "GE", "IEA"]
    assert ["HL", "3", "2", "22", "1"] in segments(text)
    assert ["INS", "N", "19"] in segments(text)


@pytest.mark.parametrize("changes", [
    {},
    {"dependent": f.dependent()},
    {"service_types": ("30", "AE", "PT", "BE", "33")},
])
def test_our_270s_read_back_to_the_same_request(changes):
    asked = f.request(**changes)
    inquiry = read_270(write_270(asked, f.envelope()))
    assert inquiry.requests == (asked,)
    assert inquiry.references == (asked.trace_number,)
    assert (inquiry.sender_id, inquiry.receiver_id) == ("HBSUBMIT01", "HBSANDBOX")


@pytest.mark.parametrize("changes", [
    {},
    {"dependent": f.dependent()},
    {"dependent": f.dependent(relationship="01", sex="U")},
    {"service_types": ("30", "AE", "PT", "BE", "33")},
    {"subscriber": f.subscriber(group_number="", birth_date=None, sex="", middle_name="")},
])
def test_x12sdk_accepts_our_270s(changes):
    assert x12sdk_models(write_270(f.request(**changes), f.envelope())) == ["EligibilityInquiry"]


_names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ '-", min_size=1, max_size=30).map(
    lambda s: " ".join(s.split())).filter(bool)
_ids = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=2, max_size=20)


@settings(max_examples=60, deadline=None)
@given(last=_names, first=_names, member_id=_ids,
       day=st.dates(date(2000, 1, 1), date(2040, 12, 31)),
       birth=st.one_of(st.none(), st.dates(date(1900, 1, 1), date(2030, 1, 1))),
       with_dependent=st.booleans(),
       types=st.lists(st.sampled_from(["30", "AE", "PT", "BE", "33", "98", "1"]), min_size=1,
                      max_size=6, unique=True).map(tuple))
def test_any_270_reads_back_to_its_request(last, first, member_id, day, birth, with_dependent,
                                           types):
    # Sex travels in DMG with the birth date; without one there is no DMG.
    asked = f.request(subscriber=f.subscriber(last_name=last, first_name=first,
                                              member_id=member_id, birth_date=birth,
                                              sex="F" if birth else ""),
                      dependent=f.dependent(first_name=first) if with_dependent else None,
                      service_date=day, service_types=types)
    assert read_270(write_270(asked, f.envelope())).requests == (asked,)


def test_270_with_other_separators_and_line_breaks_reads_back():
    separators = Separators(element="|", component=">", repetition="!", segment="\n")
    text = write_270(f.request(), f.envelope(), separators)
    assert read_270(text).requests == (f.request(),)
    crlf = write_270(f.request(), f.envelope(), Separators(line_break="\r\n"))
    assert read_270(crlf).requests == (f.request(),)


def test_270_problems_are_all_named_and_nothing_is_written():
    bad = f.request(
        trace_number="", originator_id="123",
        provider=replace(f.request().provider, identifier="1234567890"),
        subscriber=f.subscriber(member_id=" ", last_name="O*BRIEN"),
        dependent=f.dependent(first_name="", relationship="20"),
        service_types=("30", "ZZ"),
    )
    problems = request_problems(bad)
    assert len(problems) == 8
    with pytest.raises(OutboundError) as caught:
        write_270(bad, f.envelope())
    message = str(caught.value)
    for needle in ("trace number (TRN02) is empty", "originator ID (TRN03) '123'",
                   "the practice's NPI", "'O*BRIEN' contains '*'", "member ID is empty",
                   "patient (dependent)'s first name is empty",
                   "relationship '20' must be 01 (spouse), 19 (child) or 34",
                   "service type 'ZZ'"):
        assert needle in message, needle


def test_names_are_written_in_plain_upper_case_ascii():
    asked = f.request(subscriber=f.subscriber(last_name="Núñez", first_name="José"))
    [read] = read_270(write_270(asked, f.envelope())).requests
    assert (read.subscriber.last_name, read.subscriber.first_name) == ("NUNEZ", "JOSE")


# --- 271: the sandbox's answers, written and read back ------------------------------------------


@pytest.mark.parametrize("member_id", ["EVH123456789", "EVH123456780", "EVH123456781",
                                       "EVH123456782", "EVH123456783"])
@pytest.mark.parametrize("with_dependent", [False, True])
def test_sandbox_271s_read_back_to_the_same_answer(member_id, with_dependent):
    asked = f.request(subscriber=f.subscriber(member_id=member_id),
                      dependent=f.dependent() if with_dependent else None)
    reply = answer(asked, policy=policy("silverline-medicare-advantage"),
                   payer_type="medicare_advantage", visits_used=4)
    [read] = read_271(write_271([reply], f.envelope())).answers
    assert replace(read, control_number="") == reply
    assert read.control_number == "0041"


def test_several_answers_in_one_271():
    replies = [answer(f.request(trace_number=f"E{n}", subscriber=f.subscriber(member_id=m)),
                      policy=policy("evergreen-health-ppo"), payer_type="commercial")
               for n, m in ((1, "EVH100000009"), (2, "EVH100000013"))]
    read = read_271(write_271(replies, f.envelope())).answers
    assert [a.trace_number for a in read] == ["E1", "E2"]
    assert [a.control_number for a in read] == ["0041", "0042"]


@pytest.mark.parametrize("ending", ["~\n", "~\r\n"])
def test_271_with_line_breaks_reads_the_same(ending):
    text = sandbox_271()
    assert read_271(text.replace("~", ending)).answers == read_271(text).answers


def test_x12sdk_reads_sandbox_271s_without_visit_counts_or_rejections():
    for member_id in ("EVH123456780", "EVH123456781"):  # inactive, no massage benefit
        assert x12sdk_models(sandbox_271(member_id)) == ["EligibilityBenefit"]
    # No visit cap in this profile: copay, deductible, authorization message.
    assert x12sdk_models(sandbox_271(profile="columbia-workers-comp",
                                     payer_type="workers_comp")) == ["EligibilityBenefit"]


def test_x12sdk_gaps_on_visit_counts_and_subscriber_rejections():
    """x12sdk 2.2.0 types EB09 as a number (so EB09 = VS, visits, fails) and checks a 2100C
    AAA03 against the 2100B provider list (so AAA 72, invalid member ID, fails). Both are
    valid 005010X279A1; these are the only complaints it has about the sandbox's answers."""
    with pytest.raises(ValueError) as visits:
        x12sdk_models(sandbox_271("EVH123456789"))
    assert "quantity_qualifier" in str(visits.value) and "'VS'" in str(visits.value)
    assert str(visits.value).count("validation error") == 1
    with pytest.raises(ValueError) as rejected:
        x12sdk_models(sandbox_271("EVH123456783"))
    assert "reject_reason_code" in str(rejected.value) and "'72'" in str(rejected.value)


# --- bad 271s: the segment and the reason -------------------------------------------------------


def _position(text: str, prefix: str) -> int:
    for index, raw in enumerate(text.split("~"), start=1):
        if raw.startswith(prefix):
            return index
    raise AssertionError(prefix)


def _mutate(old: str, new: str) -> tuple[str, int]:
    """``old`` replaced once, and the file position of the segment it was in."""
    text = sandbox_271()
    at = text.index(old) + (1 if old.startswith("~") else 0)
    changed = text.replace(old, new, 1)
    added = new.count("~") - old.count("~")
    if added:  # keep SE01 right, so the reader gets past the envelope to the bad segment
        se = next(s for s in changed.split("~") if s.startswith("SE*"))
        count, control = se.split("*")[1:3]
        changed = changed.replace(se, f"SE*{int(count) + added}*{control}")
    return changed, text[:at].count("~") + 1


BAD_271 = [
    ("~EB*B*IND*AE", "~EB*ZZ*IND*AE", "EB", "EB01 'ZZ' is not an eligibility or benefit code"),
    ("~EB*B*IND*AE***27*25***", "~EB*B*IND*AE***27*25.125***", "EB",
     "EB07 '25.125' is not an amount"),
    ("***N*Y~", "***Q*Y~", "EB", "EB11 'Q' must be Y, N or U"),
    ("***VS*20", "****20", "EB", "EB09 and EB10 come together"),
    ("~EB*C*IND*30***23*", "~EB*C*IND*30***99*", "EB", "EB06 '99' is not a time period code"),
    ("~DTP*346*D8*20260101", "~DTP*346*D8*20261301", "DTP", "'20261301' is not a calendar date"),
    ("~DTP*346*D8*20260101", "~DTP*346*XX*20260101", "DTP", "DTP02 'XX' must be D8"),
    ("~HL*3*2*22*0", "~HL*3*7*22*0", "HL", "HL02 '7' must name an earlier provider level"),
    ("~HL*3*2*22*0", "~HL*3*2*29*0", "HL", "HL03 '29' must be 20"),
    ("~NM1*IL*1", "~NM1*QC*1", "NM1", "NM101 'QC' must be IL in a subscriber loop"),
    ("~DMG*D8*19800517", "~MSG*HELLO~DMG*D8*19800517", "MSG", "MSG (a message) belongs after"),
    ("~DMG*D8*19800517", "~ZZZ*1~DMG*D8*19800517", "ZZZ", "ZZZ is not a segment of a 271"),
]


@pytest.mark.parametrize(("old", "new", "segment_id", "reason"), BAD_271)
def test_bad_271_names_segment_and_reason(old, new, segment_id, reason):
    text, position = _mutate(old, new)
    with pytest.raises(EligibilityReadError) as caught:
        read_271(text)
    error = caught.value
    assert error.segment_id == segment_id
    assert error.position == position
    assert reason in error.reason
    assert str(error).startswith(f"segment {position} ({segment_id}): ")


def test_envelope_problems_are_named_too():
    text = sandbox_271()
    se = next(s for s in text.split("~") if s.startswith("SE*"))
    wrong_count = text.replace(se, "SE*3*0041")
    with pytest.raises(EligibilityReadError) as caught:
        read_271(wrong_count)
    assert caught.value.segment_id == "SE" and "SE01 says 3 segments" in str(caught.value)
    with pytest.raises(EligibilityReadError) as cut:
        read_271(text[: text.index("~GE*")] + "~")
    assert cut.value.segment_id == "GE" and "no GE trailer" in str(cut.value)
    with pytest.raises(EligibilityReadError) as other:
        read_271(write_270(f.request(), f.envelope()))
    assert other.value.segment_id == "ST" and "a 270 transaction set, not a 271" in str(
        other.value)
    with pytest.raises(EligibilityReadError) as junk:
        read_271("Dear biller, your answer follows.")
    assert "must start with 'ISA'" in str(junk.value)


def test_subscriber_loop_without_a_name_is_refused():
    text = sandbox_271()
    nm1 = next(s for s in text.split("~") if s.startswith("NM1*IL"))
    count = next(s for s in text.split("~") if s.startswith("SE*")).split("*")[1]
    broken = text.replace("~" + nm1, "").replace(f"SE*{count}*", f"SE*{int(count) - 1}*")
    with pytest.raises(EligibilityReadError) as caught:
        read_271(broken)
    assert caught.value.segment_id == "HL"
    assert caught.value.position == _position(text, "HL*3")
    assert "has no NM1*IL" in str(caught.value)


def test_eb_amounts_quantities_and_procedures_are_read():
    reply = replace(
        answer(f.request(), policy=policy("rainier-uniform-plan"), payer_type="commercial"),
        benefits=(Benefit("A", "IND", ("AE",), percent=Decimal("0.2"), in_network="Y"),
                  Benefit("1", "IND", ("AE",), authorization="Y", procedure="HC:97112"),
                  Benefit("F", "FAM", ("AE",), period="29", quantity_qualifier="VS",
                          quantity=Decimal("3.5"))),
    )
    [read] = read_271(write_271([reply], f.envelope())).answers
    assert read.benefits == reply.benefits
    assert ["EB", "1", "IND", "AE", "", "", "", "", "", "", "", "Y", "", "HC:97112"] in \
        segments(write_271([reply], f.envelope()))


def test_rejection_before_the_subscriber_loop_still_gives_an_answer():
    text = (
        "ISA*00*          *00*          *ZZ*HBSANDBOX      *ZZ*HBSUBMIT01     *261123*0930*^*"
        "00501*000000009*0*T*:~GS*HB*HBSANDBOX*HBSUBMIT01*20261123*0930*9*X*005010X279A1~"
        "ST*271*0001*005010X279A1~BHT*0022*11*E000000041*20261123*0930~HL*1**20*1~"
        "NM1*PR*2*EVERGREEN HEALTH PPO*****PI*EVGHP~AAA*Y**42*R~SE*6*0001~GE*1*9~"
        "IEA*1*000000009~"
    )
    [reply] = read_271(text).answers
    assert reply.reference == "E000000041" and reply.trace_number == ""
    assert [(r.code, r.level, r.follow_up) for r in reply.rejections] == [("42", "payer", "R")]


def test_answer_json_round_trip():
    for member_id in ("EVH123456789", "EVH123456783", "EVH123456780"):
        [read] = read_271(sandbox_271(member_id)).answers
        assert EligibilityAnswer.from_json(read.to_json()) == read
