"""What a sandbox member pays: a deterministic cost-share plan per member.

Real plans differ per member (the employer's choice); the sandbox draws one from the seed, the
payer and the member ID, so a member keeps the same plan every time the same seed is used.

- Workers' comp and auto PIP: the patient owes nothing (the fund or carrier pays in full).
- Medicaid: nothing.
- Original Medicare: what is left of the yearly deductible, then 20% coinsurance.
- Medicare Advantage: a copay per visit ($0, $10 or $20).
- Commercial and other: a copay per visit ($20-$40), or a coinsurance (10-30%), or a
  deductible still to meet ($50-$250) followed by 20% coinsurance.
"""

from __future__ import annotations

from dataclasses import dataclass

from handbill.core.money import Cents
from handbill.core.policy import PayerType
from handbill.sandbox import seeded


@dataclass(frozen=True, slots=True)
class CostShare:
    copay: Cents = Cents(0)  # per visit (claim), PR 3
    coinsurance_percent: int = 0  # of what is left of the allowed amount, PR 2
    deductible: Cents = Cents(0)  # still to meet at the start of the file, PR 1

    @property
    def kind(self) -> str:
        if self.copay:
            return "copay"
        if self.deductible:
            return "deductible"
        if self.coinsurance_percent:
            return "coinsurance"
        return "none"


_NOTHING = CostShare()


def cost_share(payer_type: str, payer_id: str, member_id: str, seed: int) -> CostShare:
    """The plan of ``member_id`` at ``payer_id`` under ``seed``."""
    names = ("plan", payer_id, member_id.strip().upper())
    if payer_type in (PayerType.WORKERS_COMP, PayerType.AUTO, PayerType.MEDICAID):
        return _NOTHING
    if payer_type == PayerType.MEDICARE:
        left = seeded.pick((0, 0, 5000, 12000, 25700), seed, *names)
        return CostShare(coinsurance_percent=20, deductible=Cents(left))
    if payer_type == PayerType.MEDICARE_ADVANTAGE:
        return CostShare(copay=Cents(seeded.pick((0, 1000, 2000), seed, *names)))
    kind = seeded.pick(("copay", "copay", "coinsurance", "deductible"), seed, *names, "kind")
    if kind == "copay":
        return CostShare(copay=Cents(seeded.pick((2000, 2500, 3000, 4000), seed, *names)))
    if kind == "coinsurance":
        return CostShare(coinsurance_percent=seeded.pick((10, 20, 30), seed, *names))
    return CostShare(coinsurance_percent=20,
                     deductible=Cents(seeded.pick((5000, 10000, 25000), seed, *names)))


def percent_of(amount: Cents, percent: int) -> Cents:
    """``percent`` % of ``amount``, rounded half up to the cent (integer arithmetic)."""
    return Cents((amount.value * percent + 50) // 100)
