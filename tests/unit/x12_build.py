"""Small synthetic X12 files for the reader tests: an envelope with correct counts around
the segments a test writes, and an 835 header (payment, payer, payee) to put claims under.

Synthetic values only; the payee NPI 1234567893 has a valid check digit.
"""

from __future__ import annotations

ISA = ("ISA*00*          *00*          *ZZ*PAYERSENDER    *ZZ*HANDBILLRCV    *261123*0930*^*"
       "00501*000000001*0*P*:")
assert len(ISA) == 105


def interchange(*sets: list[str], functional_id: str = "HP",
                version: str = "005010X221A1", line_break: str = "") -> str:
    """ISA … IEA around one functional group holding each of ``sets`` (ST … SE added)."""
    segments = [ISA, f"GS*{functional_id}*PAYERSENDER*HANDBILLRCV*20261123*0930*1*X*{version}"]
    for number, body in enumerate(sets, start=1):
        set_id = {"HP": "835", "FA": "999", "HN": "277", "HC": "837"}[functional_id]
        control = f"{number:04d}"
        segments.append(f"ST*{set_id}*{control}" + (f"*{version}" if set_id != "835" else ""))
        segments.extend(body)
        segments.append(f"SE*{len(body) + 2}*{control}")
    segments += [f"GE*{len(sets)}*1", "IEA*1*000000001"]
    return (f"~{line_break}".join(segments)) + f"~{line_break}"


def header_835(amount: str, *, credit_debit: str = "C", handling: str = "I",
               per_bl: bool = True) -> list[str]:
    """BPR … LX: an EFT of ``amount`` from a synthetic payer to Cedar Street Massage."""
    return [
        f"BPR*{handling}*{amount}*{credit_debit}*ACH*CCP*01*999999992*DA*123456*1512345678**01*"
        "999988880*DA*98765*20261120",
        "TRN*1*EFT20261120*1512345678",
        "DTM*405*20261120",
        "N1*PR*EXAMPLE HEALTH PLAN",
        "N3*225 MAIN STREET",
        "N4*CENTERVILLE*PA*17111",
        *(["PER*BL*EDI SUPPORT*TE*8005551212"] if per_bl else []),
        "N1*PE*CEDAR STREET MASSAGE*XX*1234567893",
        "N3*100 CEDAR ST",
        "N4*OLYMPIA*WA*985011234",
        "REF*TJ*123456789",
        "LX*1",
    ]


def remittance(amount: str, *claims: str, plb: tuple[str, ...] = (), **header: object) -> str:
    """A whole 835 file: the header, the claim segments, then any PLB segments."""
    return interchange([*header_835(amount, **header), *claims, *plb])  # type: ignore[arg-type]


# Reference §6.5's worked example: two lines, CO/PR adjustments, a bundled line, L6 interest.
WORKED_CLAIM = (
    "CLP*PCN0001*1*190*75*25*12*PAYERCLM123",
    "NM1*QC*1*DOE*JANE****MI*MEM123456",
    "DTM*232*20261116",
    "DTM*233*20261116",
    "SVC*HC:97124:XS*120*75**2",
    "DTM*472*20261116",
    "CAS*CO*45*20",
    "CAS*PR*3*25",
    "REF*6R*PCN0001-1",
    "AMT*B6*100",
    "SVC*HC:97140*70*0**1",
    "DTM*472*20261116",
    "CAS*CO*97*70",
    "REF*6R*PCN0001-2",
    "LQ*HE*M15",
)
WORKED_PLB = ("PLB*1234567893*20261231*L6:PCN0001*-1.50",)


def worked_example() -> str:
    return remittance("76.5", *WORKED_CLAIM, plb=WORKED_PLB)
