"""Session notes for the demo practice: SOAP text a massage therapist might write.

Each complaint carries its diagnoses (billable ICD-10-CM codes from reference §4.1, dotted),
the body regions treated, and several phrasings of each part of the note. The builder picks
phrasings and numbers from a seeded random generator, so notes vary from visit to visit and
from patient to patient but the same seed always writes the same notes.

The medical-necessity statements name the condition (its words or its code) and the function
it limits, which is what the scrubber and a payer's auditor look for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Complaint:
    key: str
    diagnoses: tuple[str, ...]
    # The main region treated, then a second one worked when time allows.
    regions: tuple[str, str]
    subjective: tuple[str, ...]
    objective: tuple[str, ...]
    assessment: tuple[str, ...]
    necessity: tuple[str, ...]
    activities: tuple[str, ...]


@dataclass(frozen=True)
class NoteText:
    subjective: str
    objective: str
    assessment: str
    plan: str
    medical_necessity: str
    response_to_treatment: str


LOW_BACK = Complaint(
    key="low_back",
    diagnoses=("M62.830", "M54.59"),
    regions=("low back", "upper back"),
    subjective=(
        "Reports low back tightness at {pain}/10 after {activity}; stiffness is worst on "
        "waking and eases after about {minutes} minutes of moving around.",
        "Low back pain {pain}/10 today (was {prev}/10 last visit). Still has to stand up every "
        "{minutes} minutes while {activity}.",
        "States the back 'locked up' again after {activity} over the weekend. Pain {pain}/10, "
        "no numbness or tingling in the legs.",
        "Back pain {pain}/10. Sleeping better, but {activity} still brings on spasm by the end "
        "of the day.",
    ),
    objective=(
        "Hypertonicity and guarding in the lumbar paraspinals, left more than right; active "
        "trigger points in quadratus lumborum. Forward bend limited to about {rom}% of expected "
        "with pain at end range.",
        "Moderate spasm in the lumbar erectors, right greater than left; gluteus medius tender "
        "on both sides. Fingertips reach mid-shin on forward bend.",
        "Lumbar paraspinals ropy and tender to moderate pressure; a QL trigger point reproduces "
        "the familiar pain. Sit-to-stand slow and guarded.",
    ),
    assessment=(
        "Lumbar muscle spasm persists but is less reactive than at intake; tissue responds to "
        "sustained pressure.",
        "Gradual improvement in lumbar tissue tone; sitting tolerance is still the main limit.",
        "Spasm pattern unchanged from last visit, with this flare linked to {activity}.",
    ),
    necessity=(
        "Massage is medically necessary to reduce muscle spasm of the low back (M62.830) that "
        "limits sitting to about {minutes} minutes and interrupts work.",
        "Treatment addresses lumbar muscle spasm and low back pain (M54.59) that limit "
        "{activity} and sleep; the goal is 60 minutes of sitting without pain.",
    ),
    activities=("yard work", "a long drive", "lifting boxes at work", "a full shift at a desk",
                "carrying a toddler"),
)

NECK = Complaint(
    key="neck",
    diagnoses=("M54.2", "M79.12"),
    regions=("neck", "upper back"),
    subjective=(
        "Neck pain {pain}/10, worse after long days at the computer; {headaches} headaches "
        "this week.",
        "Reports neck stiffness when turning to the {side} while driving; pain {pain}/10, down "
        "from {prev}/10.",
        "Neck flared after {activity}; pain {pain}/10, no arm symptoms.",
        "Pain {pain}/10 at the base of the skull by mid-afternoon; better on days off.",
    ),
    objective=(
        "Upper trapezius and levator scapulae hypertonic on both sides with active trigger "
        "points; cervical rotation to the {side} about {deg} degrees with end-range pain.",
        "Suboccipitals tender and dense; forward head posture. Side bend limited on the "
        "{side}.",
        "Tender points along the cervical paraspinals C4-C7; scalenes tight on the {side}.",
    ),
    assessment=(
        "Cervical soft-tissue restriction improving: rotation up about {gain} degrees since "
        "last visit.",
        "Neck pain pattern fits postural overload of the neck muscles; responds well to "
        "trigger point work.",
        "Slower progress this week after {activity}; tissue quality otherwise better.",
    ),
    necessity=(
        "Treatment is medically necessary for cervicalgia (M54.2) that limits head rotation "
        "for driving and computer work beyond {minutes} minutes.",
        "Massage to reduce myalgia of the neck and head muscles (M79.12) and restore the "
        "cervical rotation needed for safe driving.",
    ),
    activities=("a week of overtime at the computer", "painting a ceiling",
                "a long flight", "sleeping on a friend's couch"),
)

WHIPLASH = Complaint(
    key="whiplash",
    diagnoses=("S13.4XXD", "S16.1XXD", "M54.2"),
    regions=("neck", "upper back"),
    subjective=(
        "Seen for neck pain since the collision on {accident}. Pain {pain}/10; stiffness worst "
        "in the morning and when checking the blind spot.",
        "Neck pain {pain}/10 (was {prev}/10). Headaches less frequent; still avoids turning "
        "the head quickly.",
        "Reports neck and upper back ache {pain}/10 after {activity}; sleep interrupted twice "
        "a night.",
    ),
    objective=(
        "Guarding of the cervical paraspinals and upper trapezius; rotation to the {side} "
        "about {deg} degrees, painful at end range. Tender SCM on the {side}.",
        "Dense, tender tissue from the suboccipitals to T4; scalenes tight. Cervical extension "
        "limited by pain.",
        "Muscle guarding reduced compared with the first visits; rotation to the {side} "
        "{deg} degrees.",
    ),
    assessment=(
        "Post-collision cervical sprain and strain healing as expected; tissue guarding is "
        "easing.",
        "Steady gains in cervical range; pain now mostly at end range.",
        "Flare after {activity}; overall trend still improving.",
    ),
    necessity=(
        "Treatment is medically necessary for the cervical sprain and neck strain from the "
        "collision (S13.4XXD, S16.1XXD), which limit driving and desk work to {minutes} "
        "minutes.",
        "Massage reduces guarding from the neck strain (S16.1XXD) so the patient can return "
        "to full work hours and drive safely.",
    ),
    activities=("a day of driving for work", "carrying groceries", "a long meeting"),
)

LUMBAR_STRAIN = Complaint(
    key="lumbar_strain",
    diagnoses=("S39.012D", "M62.830"),
    regions=("low back", "upper back"),
    subjective=(
        "Low back pain {pain}/10 since the lifting injury at work; on light duty, lifting "
        "limited to {lbs} lb.",
        "Pain {pain}/10, was {prev}/10. Can now do about {minutes} minutes of standing work "
        "before needing a break.",
        "Back sore after {activity}; pain {pain}/10, no leg symptoms.",
    ),
    objective=(
        "Lumbar paraspinals in spasm, right more than left; QL and gluteus medius tender. "
        "Forward bend about {rom}% of expected.",
        "Guarded lumbar motion; multifidus and erector spinae hypertonic. Single-leg stance "
        "steady.",
        "Less guarding than last visit; lumbar tissue softer to palpation.",
    ),
    assessment=(
        "Work-related lumbar strain improving; tolerance for standing work increasing.",
        "Muscle spasm still limiting lifting; steady but slow progress.",
        "Setback after {activity}; spasm back to the level of two visits ago.",
    ),
    necessity=(
        "Massage is medically necessary for the strain of the lower back muscles (S39.012D) "
        "that keeps the patient on light duty with lifting limited to {lbs} lb.",
        "Treatment addresses lumbar muscle spasm (M62.830) after the work injury; the goal is "
        "a return to full duty lifting.",
    ),
    activities=("a full shift", "a weekend move", "mowing the lawn"),
)

THORACIC = Complaint(
    key="thoracic",
    diagnoses=("M54.6", "M79.18"),
    regions=("upper back", "neck"),
    subjective=(
        "Mid-back pain {pain}/10 between the shoulder blades, worse after {activity}.",
        "Upper back ache {pain}/10 (was {prev}/10); deep breaths still pull on the {side}.",
        "Reports thoracic stiffness {pain}/10 by the end of the work day.",
    ),
    objective=(
        "Rhomboids and middle trapezius hypertonic with trigger points on the {side}; thoracic "
        "rotation reduced about {rom}% to the {side}.",
        "Tender thoracic paraspinals T3-T8; rounded shoulder posture.",
        "Tissue along the medial scapular border dense and tender.",
    ),
    assessment=(
        "Thoracic myalgia improving with treatment; posture cues helping.",
        "Pain between the shoulder blades persists after {activity}; tissue responds well.",
    ),
    necessity=(
        "Treatment is medically necessary for pain in the thoracic spine (M54.6) that limits "
        "computer work to {minutes} minutes and disturbs sleep.",
        "Massage reduces myalgia of the upper back (M79.18) that limits reaching and lifting at "
        "work.",
    ),
    activities=("rowing class", "a week of report writing", "rearranging furniture"),
)

SHOULDER = Complaint(
    key="shoulder",
    diagnoses=("M25.511", "M54.6"),
    regions=("right shoulder", "upper back"),
    subjective=(
        "Right shoulder pain {pain}/10 reaching overhead; trouble putting on a jacket.",
        "Shoulder pain {pain}/10, was {prev}/10. Can now reach the top shelf with effort.",
        "Shoulder ached after {activity}; pain {pain}/10, no night pain this week.",
    ),
    objective=(
        "Infraspinatus and posterior deltoid tender with trigger points; flexion about {deg} "
        "degrees with a painful arc.",
        "Upper trapezius elevated on the right; pectoralis minor tight. Abduction limited by "
        "pain.",
        "Rotator cuff muscles less tender than last visit; flexion {deg} degrees.",
    ),
    assessment=(
        "Shoulder mobility improving; painful arc narrower than at intake.",
        "Soft-tissue restriction of the shoulder girdle persists after {activity}.",
    ),
    necessity=(
        "Treatment is medically necessary for pain in the right shoulder (M25.511) that limits "
        "overhead reaching and dressing.",
        "Massage to reduce shoulder pain and upper back myalgia so the patient can lift and "
        "reach at work without pain.",
    ),
    activities=("swimming laps", "a day of stocking shelves", "pruning trees"),
)

HEADACHE = Complaint(
    key="headache",
    diagnoses=("G44.209", "M54.2"),
    regions=("neck", "head"),
    subjective=(
        "{headaches} tension headaches this week, each lasting most of the afternoon; neck "
        "pain {pain}/10.",
        "Headaches down to {headaches} this week (was more than five); neck pain {pain}/10.",
        "Headache started after {activity}; neck tight, pain {pain}/10.",
    ),
    objective=(
        "Suboccipitals and upper trapezius hypertonic with referral to the temple on pressure; "
        "cervical rotation to the {side} {deg} degrees.",
        "Temporalis and masseter tender; forward head posture.",
        "Trigger points in the upper trapezius reproduce the headache pattern.",
    ),
    assessment=(
        "Tension-type headache pattern with cervical muscle involvement; frequency falling.",
        "Headaches linked to posture and stress; responding to suboccipital release.",
    ),
    necessity=(
        "Treatment is medically necessary for tension-type headache (G44.209) with cervicalgia "
        "that causes missed work afternoons.",
        "Massage reduces cervical muscle tension (M54.2) that triggers headaches limiting "
        "screen work to {minutes} minutes.",
    ),
    activities=("a deadline week", "a long drive", "poor sleep"),
)

FIBROMYALGIA = Complaint(
    key="fibromyalgia",
    diagnoses=("M79.7", "G89.29"),
    regions=("upper back", "low back"),
    subjective=(
        "Widespread aching {pain}/10; fatigue moderate. Flare after {activity}.",
        "Pain {pain}/10 (was {prev}/10); sleeping in longer stretches this week.",
        "Reports a good week: pain {pain}/10 and able to walk {minutes} minutes.",
    ),
    objective=(
        "Diffuse tenderness across the upper trapezius, rhomboids and gluteals; light pressure "
        "tolerated, deep pressure not.",
        "Tender points in the neck, shoulder girdle and low back; tissue guarded.",
        "Less guarding than last visit; tolerates moderate pressure on the back.",
    ),
    assessment=(
        "Fibromyalgia pain stable to improving with gentle work; pressure tolerance rising.",
        "Flare after {activity}; kept pressure light.",
    ),
    necessity=(
        "Gentle massage is medically necessary for fibromyalgia (M79.7) pain that limits "
        "walking to {minutes} minutes and disturbs sleep.",
        "Treatment addresses chronic pain (G89.29) to keep the patient working part time.",
    ),
    activities=("a cold snap", "a family visit", "a long car trip"),
)

SCIATICA = Complaint(
    key="sciatica",
    diagnoses=("M54.41", "M62.830"),
    regions=("low back", "right hip"),
    subjective=(
        "Low back pain {pain}/10 with ache down the right buttock after {activity}.",
        "Pain {pain}/10 (was {prev}/10); buttock ache now only after sitting {minutes} minutes.",
        "Reports leg ache settled; low back {pain}/10.",
    ),
    objective=(
        "Piriformis and gluteus medius tender on the right; lumbar paraspinals guarded. "
        "Forward bend about {rom}% of expected.",
        "Hip external rotators tight on the right; lumbar spasm moderate.",
        "Less tenderness in the right gluteals; lumbar tissue softer.",
    ),
    assessment=(
        "Lumbago with right-sided sciatica improving; sitting tolerance better.",
        "Symptoms flared after {activity}; still improving overall.",
    ),
    necessity=(
        "Treatment is medically necessary for lumbago with sciatica, right side (M54.41), "
        "which limits sitting to {minutes} minutes.",
        "Massage reduces lumbar muscle spasm (M62.830) feeding the sciatic pain that limits "
        "driving and desk work.",
    ),
    activities=("a long drive", "gardening", "moving furniture"),
)

COMPLAINTS: dict[str, Complaint] = {
    c.key: c
    for c in (LOW_BACK, NECK, WHIPLASH, LUMBAR_STRAIN, THORACIC, SHOULDER, HEADACHE,
              FIBROMYALGIA, SCIATICA)
}

# Complaints an ordinary patient comes in with (accident and work injuries are given by the
# coverage instead).
EVERYDAY = ("low_back", "neck", "thoracic", "shoulder", "headache", "fibromyalgia", "sciatica")

TECHNIQUES: dict[str, tuple[str, ...]] = {
    "97124": (
        "Swedish long gliding strokes and kneading",
        "Deep tissue massage with cross-fiber friction",
        "Slow compression and kneading",
        "Swedish massage with stretching strokes",
    ),
    "97140": (
        "Myofascial release",
        "Trigger point release (sustained compression)",
        "Soft tissue mobilization",
        "Muscle energy technique",
    ),
    "97112": (
        "Proprioceptive cueing and contract-relax for postural control",
        "Scapular stabilisation re-education with tactile cues",
    ),
    "97110": (
        "Instruction in a home stretching program",
        "Core activation and mobility exercises",
    ),
    "97530": ("Functional reaching and lifting practice",),
    "97010": ("Moist heat pack before manual work",),
}

_PLANS = (
    "Continue {freq} for {weeks} more weeks; home care: {homecare}. Re-check function in two "
    "weeks.",
    "Continue the current plan at {freq}; add {homecare}. Goal: {goal}.",
    "Keep {freq}; progress pressure as tolerated. Home care: {homecare}.",
    "Same plan, {freq}. Discharge expected in about {weeks} weeks if gains hold.",
)

_RESPONSES = (
    "Pain {post}/10 after treatment (from {pain}/10); moved more freely on leaving.",
    "Tissue softened noticeably; patient rated pain {post}/10 at the end of the session.",
    "Mild soreness expected after deeper work; pain {post}/10 on leaving.",
    "Range improved about {gain} degrees within the session; pain {post}/10.",
)

_HOMECARE = (
    "heat 15 minutes twice a day",
    "gentle stretches twice a day",
    "walks of 20 minutes daily",
    "workstation breaks every 30 minutes",
    "the doorway stretch after work",
)

_GOALS = (
    "sit through a full work meeting without pain",
    "sleep through the night",
    "return to the gym",
    "drive 45 minutes without stopping",
    "lift a 20 lb box from the floor",
)


def write_note(
    complaint: Complaint,
    rng: random.Random,
    *,
    pain: int,
    previous_pain: int,
    twice_weekly: bool,
    weeks_left: int,
    accident_date: date | None = None,
) -> NoteText:
    """One visit's SOAP note for ``complaint`` with today's pain score."""
    values = {
        "pain": pain,
        "prev": previous_pain,
        "post": max(pain - rng.randint(1, 3), 1),
        "activity": rng.choice(complaint.activities),
        "minutes": rng.choice((15, 20, 25, 30, 40)),
        "side": rng.choice(("left", "right")),
        "rom": rng.choice((50, 60, 65, 70, 75, 80)),
        "deg": rng.choice((45, 50, 55, 60, 65, 70)),
        "gain": rng.choice((5, 10, 15)),
        "lbs": rng.choice((10, 15, 20, 25)),
        "headaches": rng.randint(2, 4),
        "accident": accident_date.isoformat() if accident_date else "the accident date",
        "freq": "twice a week" if twice_weekly else "once a week",
        "weeks": max(weeks_left, 1),
        "homecare": rng.choice(_HOMECARE),
        "goal": rng.choice(_GOALS),
    }
    return NoteText(
        subjective=rng.choice(complaint.subjective).format(**values),
        objective=rng.choice(complaint.objective).format(**values),
        assessment=rng.choice(complaint.assessment).format(**values),
        plan=rng.choice(_PLANS).format(**values),
        medical_necessity=rng.choice(complaint.necessity).format(**values),
        response_to_treatment=rng.choice(_RESPONSES).format(**values),
    )
