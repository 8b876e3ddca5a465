"""Request and response bodies of the class session (/api/class/...).

Kept beside the classroom routes rather than in app/schemas.py: the whole area is mounted only
with `--classroom`, and its models (join, submit, rounds) mean nothing to the rest of the API,
so the area can be read, changed or removed as one package. The forward body is the contract's
own (`ForwardBody`), reused, so a submission is drawn exactly as a forward request is.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.schemas import ForwardBody

NICKNAME_MAX = 24            # characters after cleaning (a projector card's width)
NICKNAME_RAW_MAX = 200       # refused before cleaning: nobody types more
Index = Annotated[int, Field(strict=True, ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- sent by a student's page -------------------------------------------------------------

class JoinBody(_Strict):
    code: str = Field(min_length=1, max_length=16,
                      description="The 4-letter join code on the teacher's screen.")
    nickname: str | None = Field(None, max_length=NICKNAME_RAW_MAX,
                                 description=f"Optional; at most {NICKNAME_MAX} characters once "
                                             "cleaned. Without one the server picks an animal.")


class RenameBody(_Strict):
    nickname: str = Field(max_length=NICKNAME_RAW_MAX)


class SubmitBody(ForwardBody):
    """A drawing (the forward body) sent to the class, and which digit the student meant."""
    label: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        None, description="The class index the student meant (their digit), if they say.")


class AnswerBody(_Strict):
    """A predict round's answer: `value` (a number), `cell` (flat index into the pool window)
    or `class` (a class index), whichever the round's `answer` says."""
    value: float | None = Field(None, allow_inf_nan=False)
    cell: Index | None = None
    class_: Index | None = Field(None, alias="class")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _one(self):
        given = [k for k in ("value", "cell", "class_") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("send exactly one of `value` (a number), `cell` (which cell of the "
                             "window wins, 0-based) or `class` (a class index)")
        return self


# --- sent by the teacher's dashboard ------------------------------------------------------

class TeacherLogin(_Strict):
    token: str = Field(min_length=1, max_length=256)


class Digit(_Strict):
    """Which digit: a student's submission, or a shipped test digit."""
    submission: Index | None = None
    sample: tuple[Index, Index] | None = Field(
        None, description="[class, index] of a shipped test digit (GET /api/samples).")

    @model_validator(mode="after")
    def _one(self):
        if (self.submission is None) == (self.sample is None):
            raise ValueError("give exactly one of `submission` (an id) or `sample` "
                             "([class, index] of a test digit)")
        return self


class Focus(_Strict):
    layer: str = Field(min_length=1, max_length=32)
    unit: list[Annotated[int, Field(strict=True)]] = Field(min_length=1, max_length=3)


class SpotlightBody(_Strict):
    digit: Digit
    focus: Focus | None = None
    tab: Literal["network", "3d"] = "network"
    anonymous: bool = Field(True, strict=True, description="Hide whose digit it is.")
    note: str | None = Field(None, max_length=200)


class PauseBody(_Strict):
    paused: bool = Field(strict=True)


class PredictRound(_Strict):
    kind: Literal["predict"]
    digit: Digit
    focus: Focus


class FoolRound(_Strict):
    kind: Literal["fool"]
    target: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        None, description="The digit to draw; null: any digit the network gets wrong.")


RoundBody = Annotated[PredictRound | FoolRound, Field(discriminator="kind")]


class EndBody(_Strict):
    confirm: Literal[True] = Field(description="Must be true: ending deletes everything.")
