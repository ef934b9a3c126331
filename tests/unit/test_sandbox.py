"""The payer sandbox answers 837P files like the payer profiles would: every 999, 277CA and
835 it writes passes pyx12, every 835 balances, each front-end edit rejects with the right
claim status, each payer rule denies the right line with the right CARC/RARC, and the same
file and seed always give the same bytes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pytest

from handbill.core.money import Cents
from handbill.core.outbound import (
    Address,
    ClaimGroup,
    OutClaim,
    OutLine,
    PayerResponsibility,
    PersonName,
    ProviderRef,
    RelatedCause,
)
from handbill.core.policy import PolicyFile, read_shipped_policies
from handbill.sandbox import SandboxInputError, SandboxResult, adjudicate
from handbill.sandbox.benefits import CostShare, cost_share
from handbill.x12.p837 import write_837
from tests.unit import outbound_factory as f
from tests.unit.test_w835 import check_balanced
from tests.unit.x12_validation import pyx12_errors

POLICIES: dict[str, PolicyFile] = {p.payer_id: p for p in read_shipped_policies()}
DOS = date(2026, 11, 16)
AS_OF = date(2026, 11, 23)
MEMBERS = {"EVGHP": "EVH123456789", "CSCMH": "CMH123456789", "RNRUM": "RUM123456789",
           "SLVMA": "SLV123456789", "PCMAP": "PMA123456789", "CLMWC": "CSWC123456789",
           "MCRB1": "1EG4TE5MK73"}
PT = "225100000X"  # physical therapist: a taxonomy no sandbox payer restricts


# -- building 837s ------------------------------------------------------------------------------


def svc(number: int, code: str = "97124", units: int = 2, *, modifiers: tuple[str, ...] = (),
        claim_id: str = "C1", day: date = DOS, charge: int | None = None) -> OutLine:
    return OutLine(number=number, code=code, modifiers=modifiers,
                   charge=Cents(charge if charge is not None else 6000 * units), units=units,
                   pointers=(1,), date_of_service=day, control_number=f"{claim_id}-{number}")


def visit(claim_id: str, payer_id: str = "EVGHP", *lines: OutLine, member: str | None = None,
          **changes: Any) -> OutClaim:
    policy = POLICIES[payer_id]
    if not lines:
        lines = (svc(1, claim_id=claim_id),)
    subscriber = f.subscriber(member_id=member or MEMBERS[payer_id],
                              claim_filing_indicator=policy.claim_filing_indicator)
    base = f.claim(claim_id, payer=f.payer(name=policy.payer_name.upper(), payer_id=payer_id),
                   subscriber=subscriber, lines=tuple(lines))
    if payer_id == "PCMAP":
        base = replace(base, related_causes=(RelatedCause.AUTO_ACCIDENT,), accident_state="WA",
                       accident_date=date(2026, 10, 2), property_casualty_claim_number="PC-1",
                       subscriber=replace(subscriber, group_number=""))
    if payer_id == "CLMWC":
        base = replace(base, related_causes=(RelatedCause.EMPLOYMENT,),
                       onset_date=date(2026, 9, 14), property_casualty_claim_number="WC-1",
                       subscriber=replace(subscriber, group_number=""))
    if payer_id == "SLVMA":
        base = replace(base, prior_authorization="SLV-PA-1", referring=f.referring())
    return replace(base, **changes)


def as_pt(claim: OutClaim) -> OutClaim:
    return replace(claim, rendering=ProviderRef(PersonName("LEE", "SAM"), f.THERAPIST_NPI,
                                                taxonomy=PT))


def file_of(*claims: OutClaim, **batch_changes: Any) -> str:
    return write_837(f.batch(ClaimGroup(f.clinic(), tuple(claims)), **batch_changes))


def run(*claims: OutClaim, seed: int = 1, as_of: date = AS_OF,
        history: dict[str, int] | None = None, text: str | None = None) -> SandboxResult:
    return adjudicate(text if text is not None else file_of(*claims), policies=POLICIES,
                      as_of=as_of, seed=seed, payer_history=history)


# -- reading the answers -----------------------------------------------------------------------


def segments(text: str) -> list[list[str]]:
    return [s.split("*") for s in text.split("~") if s]


@dataclass
class Line:
    svc: list[str]
    cas: list[tuple[str, str, str, str]] = field(default_factory=list)  # group, reason, amt, qty
    ref_6r: str = ""
    remarks: list[str] = field(default_factory=list)
    allowed: str = ""

    @property
    def reasons(self) -> list[str]:
        return [f"{g}-{r}" for g, r, _amount, _qty in self.cas]


@dataclass
class Claim:
    clp: list[str]
    lines: list[Line] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.clp[2]


def remit_claims(result: SandboxResult) -> dict[str, Claim]:
    found: dict[str, Claim] = {}
    for text in result.remittances:
        current: Claim | None = None
        for s in segments(text):
            tag = s[0]
            if tag == "CLP":
                current = Claim(s)
                found[s[1]] = current
            elif tag == "SVC" and current is not None:
                current.lines.append(Line(s))
            elif tag == "CAS" and current is not None and current.lines:
                for start in range(2, len(s), 3):
                    quantity = s[start + 2] if start + 2 < len(s) else ""
                    current.lines[-1].cas.append((s[1], s[start], s[start + 1], quantity))
            elif tag == "REF" and s[1] == "6R" and current is not None:
                current.lines[-1].ref_6r = s[2]
            elif tag == "LQ" and current is not None:
                current.lines[-1].remarks.append(s[2])
            elif tag == "AMT" and s[1] == "B6" and current is not None:
                current.lines[-1].allowed = s[2]
            elif tag in ("PLB", "SE"):
                current = None
    return found


def statuses(result: SandboxResult) -> dict[str, list[str]]:
    """CLM01 → the STC01 composites the 277CA gives it."""
    assert result.ack_277ca is not None
    found: dict[str, list[str]] = {}
    claim, patient_level = "", False
    for s in segments(result.ack_277ca):
        if s[0] == "HL":
            claim, patient_level = "", s[3] == "PT"
        elif s[0] == "TRN" and patient_level:
            claim = s[2]
        elif s[0] == "STC" and claim:
            found.setdefault(claim, []).append(s[1])
    return found


def outcome(result: SandboxResult, claim_id: str) -> dict[str, Any]:
    for claim in result.summary["claims"]:
        if claim["claim_id"] == claim_id:
            return dict(claim)
    raise AssertionError(f"no outcome for {claim_id}")


def assert_valid(result: SandboxResult) -> None:
    assert pyx12_errors(result.ack_999) == []
    if result.ack_277ca is not None:
        assert pyx12_errors(result.ack_277ca) == []
    for text in result.remittances:
        assert pyx12_errors(text, want_999=False) == []
        assert check_balanced(text) == []


# -- every answer is valid -----------------------------------------------------------------


def _one_of_each() -> list[OutClaim]:
    return [
        visit("EV1", "EVGHP", svc(1, claim_id="EV1"), svc(2, "97140", 1, claim_id="EV1"),
              svc(3, "97010", 1, claim_id="EV1", charge=2500)),
        visit("CM1", "CSCMH", svc(1, "97140", 2, modifiers=("GP",), claim_id="CM1")),
        visit("RN1", "RNRUM", svc(1, "97140", 2, claim_id="RN1"),
              svc(2, "97124", 2, modifiers=("XS",), claim_id="RN1")),
        visit("SL1", "SLVMA"),
        visit("PC1", "PCMAP", svc(1, "97124", 2, claim_id="PC1"),
              svc(2, "97010", 1, claim_id="PC1", charge=2500)),
        visit("WC1", "CLMWC", svc(1, "97124", 4, claim_id="WC1")),
        visit("MC1", "MCRB1"),
        visit("BAD1", "EVGHP", member="AB1"),
    ]


def test_a_file_for_every_payer_is_answered_with_valid_balanced_files() -> None:
    result = run(*_one_of_each())
    assert_valid(result)
    assert result.remittance_payers == ("CLMWC", "CSCMH", "EVGHP", "MCRB1", "PCMAP", "RNRUM",
                                        "SLVMA")
    claims = remit_claims(result)
    assert set(claims) == {"EV1", "CM1", "RN1", "SL1", "PC1", "WC1", "MC1"}
    # CLP01 is our CLM01, each SVC echoes our line control number.
    for claim_id, claim in claims.items():
        assert [line.ref_6r for line in claim.lines] == [
            f"{claim_id}-{n}" for n in range(1, len(claim.lines) + 1)]
    # Payment per payer: checks for workers' comp and auto, EFT for the others.
    methods = {p["payer_id"]: p["method"] for p in result.summary["payments"]}
    assert methods["CLMWC"] == "CHK" and methods["PCMAP"] == "CHK"
    assert methods["EVGHP"] == "ACH"
    # Original Medicare pays a massage therapist nothing: a notification, not a payment.
    assert methods["MCRB1"] == "NON"
    assert result.files("B1").keys() == {"B1.999", "B1.277ca", *(
        f"B1.{payer}.835" for payer in result.remittance_payers)}


def test_the_same_file_and_seed_give_the_same_bytes_and_another_seed_does_not() -> None:
    text = file_of(*_one_of_each())
    first = run(text=text, seed=11)
    again = run(text=text, seed=11)
    assert (first.ack_999, first.ack_277ca, first.remittances) == (
        again.ack_999, again.ack_277ca, again.remittances)
    assert first.summary == again.summary
    other = run(text=text, seed=12)
    assert other.remittances != first.remittances
    numbers = {c["claim_id"]: c.get("payer_claim_number") for c in first.summary["claims"]}
    other_numbers = {c["claim_id"]: c.get("payer_claim_number")
                     for c in other.summary["claims"]}
    assert numbers != other_numbers
    # The 277CA's REF*1K and the 835's CLP07 carry the same payer claim number.
    assert remit_claims(first)["EV1"].clp[7] == numbers["EV1"]
    assert f"REF*1K*{numbers['EV1']}~" in (first.ack_277ca or "")


# -- the 999 ---------------------------------------------------------------------------------


def _with_transactions(count: int) -> str:
    claims = [visit(f"T{n}", "EVGHP", svc(1, claim_id=f"T{n}")) for n in range(1, count + 1)]
    return file_of(*claims, claims_per_transaction=1)


def test_a_wrong_segment_count_rejects_that_transaction_set_only() -> None:
    text = _with_transactions(2)
    broken = re.sub(r"SE\*(\d+)\*0001~", lambda m: f"SE*{int(m.group(1)) + 1}*0001~", text)
    result = run(text=broken)
    assert_valid(result)
    ik5 = [s for s in segments(result.ack_999) if s[0] == "IK5"]
    assert ik5 == [["IK5", "R", "4"], ["IK5", "A"]]
    assert [s for s in segments(result.ack_999) if s[0] == "AK9"] == [
        ["AK9", "P", "2", "2", "1"]]
    # Only the accepted set's claim reaches the 277CA and the 835.
    assert set(statuses(result)) == {"T2"}
    assert set(remit_claims(result)) == {"T2"}
    assert result.summary["acknowledgement"]["transactions"][0]["status"] == "R"
    assert "SE01" in result.summary["acknowledgement"]["transactions"][0]["problems"][0]


def test_a_wrong_trailer_control_number_and_a_broken_group_count() -> None:
    text = _with_transactions(2)
    wrong_control = text.replace("*0002~GE", "*0009~GE")
    result = run(text=wrong_control)
    assert [s for s in segments(result.ack_999) if s[0] == "IK5"][1] == ["IK5", "R", "3"]
    bad_count = re.sub(r"GE\*2\*", "GE*3*", text)
    result = run(text=bad_count)
    assert_valid(result)
    assert [s for s in segments(result.ack_999) if s[0] == "AK9"] == [
        ["AK9", "R", "2", "2", "0", "5"]]
    assert result.ack_277ca is None and result.remittances == ()
    assert result.claims == ()


def test_an_unreadable_claim_rejects_its_set_with_the_segment() -> None:
    text = file_of(visit("U1"))
    broken = text.replace("DTP*472*D8*20261116~", "DTP*472*D8*20261340~")
    result = run(text=broken)
    assert_valid(result)
    ik3 = [s for s in segments(result.ack_999) if s[0] == "IK3"]
    assert len(ik3) == 1 and ik3[0][1] == "DTP" and ik3[0][4] == "8"
    assert [s for s in segments(result.ack_999) if s[0] == "IK5"] == [["IK5", "R", "5"]]
    assert result.ack_277ca is None


def test_a_charge_mismatch_is_accepted_with_errors_then_rejected_by_the_277ca() -> None:
    text = file_of(visit("M1"))
    broken = text.replace("CLM*M1*120*", "CLM*M1*125*")
    result = run(text=broken)
    assert_valid(result)
    assert [s for s in segments(result.ack_999) if s[0] == "IK5"] == [["IK5", "E"]]
    assert [s[1] for s in segments(result.ack_999) if s[0] == "IK3"] == ["CLM"]
    assert statuses(result) == {"M1": ["A7:178"]}
    assert result.remittances == ()


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("hello, payer", "not a readable X12 interchange"),
    ("ISA*00*", "not a readable X12 interchange"),
])
def test_input_that_is_not_an_837_interchange_is_refused(text: str, message: str) -> None:
    with pytest.raises(SandboxInputError, match=message):
        run(text=text)


def test_an_835_given_to_the_sandbox_is_refused_by_name() -> None:
    remittance = run(visit("E1")).remittances[0]
    with pytest.raises(SandboxInputError, match="answers 837P professional claims"):
        run(text=remittance)


def test_a_broken_interchange_trailer_is_refused() -> None:
    text = file_of(visit("E1")).replace("IEA*1*", "IEA*2*")
    with pytest.raises(SandboxInputError, match="interchange envelope is broken"):
        run(text=text)


# -- the 277CA front-end edits --------------------------------------------------------------


def test_front_end_rejections_carry_the_right_claim_status() -> None:
    future = DOS + timedelta(days=30)
    claims = [
        visit("OK1"),
        visit("PAYER", "EVGHP", payer=f.payer(name="NOBODY HEALTH", payer_id="NOBODY")),
        visit("SHAPE", member="AB1"),
        visit("GONE", member="XEV1234567"),
        visit("MBI", "MCRB1", member="EVH123456789"),
        visit("LATER", "EVGHP", svc(1, claim_id="LATER", day=future)),
        visit("NOAUTH", "SLVMA", prior_authorization=""),
        visit("NOCN", "PCMAP", property_casualty_claim_number=""),
    ]
    result = run(*claims)
    assert_valid(result)
    assert statuses(result) == {
        "OK1": ["A2:20"],
        "PAYER": ["A7:116"],
        "SHAPE": ["A7:164:IL"],
        "GONE": ["A7:33"],
        "MBI": ["A7:164:IL"],
        "LATER": ["A7:187"],
        "NOAUTH": ["A6:252"],
        "NOCN": ["A6:629"],
    }
    assert set(remit_claims(result)) == {"OK1"}
    rejected = outcome(result, "NOAUTH")
    assert rejected["status"] == "rejected" and not rejected["accepted"]
    assert "authorization" in rejected["rejections"][0]["message"]
    # The biller reads the reason in our words in STC12 too.
    assert "NEEDS AN AUTHORIZATION NUMBER FROM THE FIRST VISIT" in (result.ack_277ca or "")


def test_an_invalid_npi_is_rejected_for_the_billing_or_rendering_provider() -> None:
    rendering = ProviderRef(PersonName("SMITH", "ANNA"), f.THERAPIST_NPI, taxonomy="225700000X")
    text = file_of(visit("R1", rendering=rendering))
    # 1245319590 fails the check digit (the writer would refuse to write it, so edit the text).
    broken = text.replace("XX*1245319599", "XX*1245319590")
    result = run(text=broken)
    assert statuses(result) == {"R1": ["A7:562:82"]}
    billing = file_of(visit("B1")).replace("XX*1234567893", "XX*1234567890")
    assert statuses(run(text=billing)) == {"B1": ["A7:562:85"]}


def test_several_problems_are_all_reported() -> None:
    claim = visit("TWO", "SLVMA", member="AB1", prior_authorization="")
    result = run(claim)
    assert statuses(result) == {"TWO": ["A7:164:IL", "A6:252"]}
    assert result.remittances == ()


# -- the 835: payer rules ------------------------------------------------------------------


def test_evergreen_pays_97124_and_denies_97140_and_97010() -> None:
    claim = visit("EV1", "EVGHP", svc(1, claim_id="EV1"), svc(2, "97140", 1, claim_id="EV1"),
                  svc(3, "97010", 1, claim_id="EV1", charge=2500))
    result = run(claim)
    lines = remit_claims(result)["EV1"].lines
    # 97124 × 2 at the fee schedule 28.10: allowed 56.20, CO 45 for the rest of 120.
    assert lines[0].allowed == "56.2"
    assert lines[0].reasons[0] == "CO-45" and lines[0].cas[0][2] == "63.8"
    assert lines[1].reasons == ["CO-170"] and lines[1].remarks == ["N130"]
    assert lines[1].svc[3] == "0"
    assert lines[2].reasons == ["CO-97"] and lines[2].remarks == ["M15"]
    assert remit_claims(result)["EV1"].status == "1"
    summary = outcome(result, "EV1")
    assert summary["status"] == "partially_paid"
    assert [(d["code"], d["group"], d["reason"]) for d in summary["denied_lines"]] == [
        ("97140", "CO", "170"), ("97010", "CO", "97")]


def test_original_medicare_denies_a_massage_therapist_whole_claim() -> None:
    result = run(visit("MC1", "MCRB1"))
    claim = remit_claims(result)["MC1"]
    assert claim.status == "4" and claim.clp[4] == "0"
    assert claim.lines[0].reasons == ["CO-170"]
    assert outcome(result, "MC1")["status"] == "denied"
    assert result.summary["payments"][0]["method"] == "NON"


def test_the_visit_cap_counts_history_and_the_file() -> None:
    first = visit("V1", "EVGHP", svc(1, claim_id="V1", day=DOS - timedelta(days=7)))
    second = visit("V2", "EVGHP", svc(1, claim_id="V2"))
    # Evergreen pays 20 visits in 2026; 19 were paid before this file.
    result = run(second, first, history={MEMBERS["EVGHP"]: 19})
    claims = remit_claims(result)
    assert claims["V1"].status == "1"
    assert claims["V2"].status == "4"
    assert claims["V2"].lines[0].reasons == ["PR-119"]
    assert claims["V2"].lines[0].remarks == ["N130"]
    # A benefit limit: the patient owes it (CLP05).
    assert claims["V2"].clp[5] == claims["V2"].clp[3]
    assert outcome(result, "V2")["visit_number"] == 21
    assert_valid(result)


def test_history_from_last_year_does_not_count() -> None:
    result = run(visit("V1"), history={MEMBERS["EVGHP"]: 19},
                 as_of=date(2027, 1, 10))
    assert outcome(result, "V1")["visit_number"] == 1


def test_workers_comp_needs_an_authorization_from_the_seventh_visit() -> None:
    claim = visit("WC7", "CLMWC", svc(1, "97124", 2, claim_id="WC7"))
    result = run(claim, history={MEMBERS["CLMWC"]: 6})
    line = remit_claims(result)["WC7"].lines[0]
    assert line.reasons == ["CO-197"]
    assert remit_claims(result)["WC7"].status == "4"
    authorized = run(replace(claim, prior_authorization="WC-12345678"),
                     history={MEMBERS["CLMWC"]: 6})
    assert remit_claims(authorized)["WC7"].status == "1"
    # Workers' comp never bills the patient.
    assert remit_claims(authorized)["WC7"].lines[0].reasons == ["CO-45"]


def test_a_code_under_prior_authorization_is_denied_without_one() -> None:
    claim = visit("PA1", "RNRUM", svc(1, "97112", 1, claim_id="PA1"),
                  svc(2, "97140", 1, claim_id="PA1"))
    result = run(claim)
    lines = remit_claims(result)["PA1"].lines
    assert lines[0].reasons == ["CO-197"]
    assert "CO-197" not in lines[1].reasons
    assert outcome(result, "PA1")["status"] == "partially_paid"


def test_an_ncci_pair_without_a_bypass_modifier_denies_the_column_2_line() -> None:
    claim = visit("PTP", "RNRUM", svc(1, "97140", 1, claim_id="PTP"),
                  svc(2, "97124", 1, claim_id="PTP"))
    lines = remit_claims(run(claim))["PTP"].lines
    assert "CO-236" not in lines[0].reasons
    assert lines[1].reasons == ["CO-236"] and lines[1].remarks == ["N20"]
    bypassed = replace(claim, lines=(claim.lines[0], replace(claim.lines[1], modifiers=("XS",))))
    lines = remit_claims(run(bypassed))["PTP"].lines
    assert "CO-236" not in lines[1].reasons


def test_a_payer_that_takes_only_59_denies_an_x_modifier_bypass() -> None:
    claim = as_pt(visit("C59", "CSCMH", svc(1, "97140", 1, modifiers=("GP",), claim_id="C59"),
                        svc(2, "97124", 1, modifiers=("GP", "XS"), claim_id="C59")))
    lines = remit_claims(run(claim))["C59"].lines
    assert lines[1].reasons == ["CO-236"]
    with_59 = replace(claim, lines=(claim.lines[0],
                                    replace(claim.lines[1], modifiers=("GP", "59"))))
    assert "CO-236" not in remit_claims(run(with_59))["C59"].lines[1].reasons


def test_a_missing_therapy_modifier_is_co_4() -> None:
    claim = visit("GP0", "CSCMH", svc(1, "97140", 2, claim_id="GP0"))
    lines = remit_claims(run(claim))["GP0"].lines
    assert lines[0].reasons == ["CO-4"]


def test_timely_filing_denies_every_line() -> None:
    old = DOS - timedelta(days=100)
    claim = visit("OLD", "CSCMH", svc(1, "97140", 1, modifiers=("GP",), claim_id="OLD",
                                      day=old),
                  svc(2, "97140", 1, modifiers=("GP",), claim_id="OLD", day=old))
    result = run(claim)
    claim_out = remit_claims(result)["OLD"]
    assert claim_out.status == "4"
    assert [line.reasons for line in claim_out.lines] == [["CO-29"], ["CO-29"]]
    assert "90 days" in outcome(result, "OLD")["denied_lines"][0]["message"]


def test_units_beyond_the_daily_cap_are_cut_with_co_119() -> None:
    claim = visit("CAP", "EVGHP", svc(1, "97124", 6, claim_id="CAP"))
    result = run(claim)
    line = remit_claims(result)["CAP"].lines[0]
    # SVC05 is the units paid, SVC07 the units billed.
    assert line.svc[5] == "4" and line.svc[7] == "6"
    assert line.cas[0] == ("CO", "119", "120", "2")
    assert line.allowed == "112.4"  # 4 × 28.10
    assert outcome(result, "CAP")["denied_lines"][0]["units_denied"] == 2
    assert_valid(result)


def test_the_daily_cap_counts_units_across_claims_of_one_day() -> None:
    morning = visit("AM", "EVGHP", svc(1, "97124", 3, claim_id="AM"))
    evening = visit("PM", "EVGHP", svc(1, "97124", 3, claim_id="PM"))
    claims = remit_claims(run(morning, evening))
    assert claims["AM"].lines[0].svc[5] == "3"
    assert claims["PM"].lines[0].svc[5] == "1"


def test_auto_pip_pays_97010_and_the_full_fee() -> None:
    claim = visit("PC1", "PCMAP", svc(1, "97124", 2, claim_id="PC1"),
                  svc(2, "97010", 1, claim_id="PC1", charge=2500))
    lines = remit_claims(run(claim))["PC1"].lines
    assert lines[0].allowed == "73" and lines[0].svc[3] == "73"  # 2 × 36.50, nothing owed
    assert lines[1].allowed == "14" and lines[1].svc[3] == "14"


def test_patient_cost_share_follows_the_members_plan() -> None:
    result = run(visit("EV1"))
    claim = remit_claims(result)["EV1"]
    share = cost_share("commercial", "EVGHP", MEMBERS["EVGHP"], 1)
    pr = [(g, r) for line in claim.lines for g, r, _amount, _qty in line.cas if g == "PR"]
    expected = {"copay": [("PR", "3")], "coinsurance": [("PR", "2")],
                "deductible": [("PR", "1")]}[share.kind]
    assert pr == expected
    assert Cents.parse(claim.clp[5]) == Cents.parse(outcome(result, "EV1")[
        "patient_responsibility"])


def test_cost_share_plans_are_deterministic_and_fit_the_payer_type() -> None:
    assert cost_share("workers_comp", "CLMWC", "A", 1) == CostShare()
    assert cost_share("auto", "PCMAP", "A", 1) == CostShare()
    medicare = cost_share("medicare", "MCRB1", "1EG4TE5MK73", 3)
    assert medicare.coinsurance_percent == 20 and medicare.copay == Cents(0)
    advantage = cost_share("medicare_advantage", "SLVMA", "SLV1", 3)
    assert advantage.coinsurance_percent == 0 and advantage.deductible == Cents(0)
    kinds = {cost_share("commercial", "EVGHP", f"EVH{n:09d}", 5).kind for n in range(60)}
    assert kinds == {"copay", "coinsurance", "deductible"}
    assert cost_share("commercial", "EVGHP", "EVH1", 5) == cost_share("commercial", "EVGHP",
                                                                      "EVH1", 5)


def test_a_deductible_is_used_up_across_the_members_claims() -> None:
    member = next(f"EVH{n:09d}" for n in range(500)
                  if cost_share("commercial", "EVGHP", f"EVH{n:09d}", 1).deductible
                  == Cents(5000))
    first = visit("D1", "EVGHP", svc(1, "97124", 2, claim_id="D1", day=DOS - timedelta(1)),
                  member=member)
    second = visit("D2", "EVGHP", svc(1, "97124", 2, claim_id="D2"), member=member)
    claims = remit_claims(run(second, first))
    # 56.20 allowed each: the first takes 50.00 of deductible, the second the 0 left.
    assert ("PR", "1", "50", "") in claims["D1"].lines[0].cas
    assert all(cas[1] != "1" for cas in claims["D2"].lines[0].cas)


def test_a_secondary_claim_pays_what_the_primary_left() -> None:
    base = visit("SEC", "RNRUM", svc(1, "97124", 2, claim_id="SEC"))
    secondary = replace(base, subscriber=replace(base.subscriber,
                                                 responsibility=PayerResponsibility.SECONDARY))
    primary = f.primary_adjudication(secondary)
    result = run(replace(secondary, prior_payers=(primary,)))
    claim = remit_claims(result)["SEC"]
    assert claim.status == "2"
    # Allowed 2 × 26.80 = 53.60; the primary paid 96.00 on the line, more than allowed.
    assert claim.lines[0].reasons == ["CO-45", "OA-23"]
    assert claim.clp[4] == "0"
    assert_valid(result)


def test_a_void_is_acknowledged_but_not_paid() -> None:
    void = visit("VOID", payer_claim_number="12345678901234", frequency="8")
    result = run(void, visit("KEEP"))
    assert statuses(result)["VOID"] == ["A2:20"]
    assert set(remit_claims(result)) == {"KEEP"}
    assert outcome(result, "VOID")["status"] == "void"


def test_one_payer_adds_an_interest_line_and_the_payment_includes_it() -> None:
    result = run(*_one_of_each(), seed=4)
    plb = [(payer, s) for payer, text in zip(result.remittance_payers, result.remittances,
                                             strict=True)
           for s in segments(text) if s[0] == "PLB"]
    assert len(plb) == 1
    payer, segment = plb[0]
    assert segment[3].startswith("L6:") and segment[4].startswith("-")
    assert segment[1] == f.CLINIC_NPI and segment[2] == "20261231"
    payment = next(p for p in result.summary["payments"] if p["payer_id"] == payer)
    assert payment["interest"] == Cents.parse(segment[4][1:]).to_decimal_string()
    assert_valid(result)


def test_payer_address_from_the_837_is_used_when_given() -> None:
    claim = visit("ADR", payer=f.payer(name="EVERGREEN HEALTH PPO", payer_id="EVGHP",
                                      address=Address("PO BOX 7", "SPOKANE", "WA", "99201")))
    text = run(claim).remittances[0]
    assert "N3*PO BOX 7~N4*SPOKANE*WA*99201~REF*2U*EVGHP~" in text


def test_as_of_defaults_to_the_day_the_file_was_created() -> None:
    result = adjudicate(file_of(visit("E1")), policies=POLICIES, as_of=None, seed=1)
    assert result.as_of == f.CREATED_AT.date()


def test_handbills_own_readers_read_every_answer_without_complaint() -> None:
    from handbill.x12.r277ca import read_277ca
    from handbill.x12.r835 import read_835
    from handbill.x12.r999 import read_999
    from handbill.x12.tokens import iter_transactions

    result = run(*_one_of_each(), seed=4)
    (ack,) = [read_999(t) for t in iter_transactions(result.ack_999)]
    assert (ack.status, ack.accepted_count, ack.problems) == ("A", 1, ())
    (claim_ack,) = [read_277ca(t) for t in iter_transactions(result.ack_277ca or "")]
    assert claim_ack.problems == ()
    by_claim = {c.claim_id: c for c in claim_ack.claims}
    assert by_claim["BAD1"].rejected and not by_claim["EV1"].rejected
    assert by_claim["EV1"].payer_claim_number == outcome(result, "EV1")["payer_claim_number"]
    paid = Cents(0)
    for text in result.remittances:
        for transaction in iter_transactions(text):
            remittance = read_835(transaction)
            assert (remittance.errors, remittance.warnings) == ((), ())
            paid = paid + Cents.parse(remittance.as_dict()["payment"]["amount"])
    interest = sum(Cents.parse(p["interest"]).value for p in result.summary["payments"])
    assert paid == Cents.parse(result.summary["paid"]) + Cents(interest)
