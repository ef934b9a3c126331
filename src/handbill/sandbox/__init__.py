"""The payer sandbox: answers an 837P file like the payer profiles would, so the whole billing
loop (claims out → acknowledgements → remittance → posting → worklist) runs offline.

``adjudicate(text, policies=…, as_of=…, seed=…)`` returns a 999, a 277CA and one 835 per
payer, all written by Handbill's own X12 writers and valid against the implementation guides.
Pure: no Django, no clock; the same file, policies, date and seed give byte-identical answers.
"""

from handbill.sandbox.engine import ClaimOutcome, PaymentOutcome, SandboxResult, adjudicate
from handbill.sandbox.intake import SandboxInputError

__all__ = [
    "ClaimOutcome",
    "PaymentOutcome",
    "SandboxInputError",
    "SandboxResult",
    "adjudicate",
]
