"""What Lisa and a called business have agreed on an outbound booking call, kept in conversation state.

A slot goes through three steps: the business **offers** it, Lisa **accepts** it ("Friday at ten would be
great"), the business **confirms** it ("Lovely, Friday at ten then" or just a goodbye after her yes). The
booking recorded for the user is derived from this (:func:`agreed_slot`), never from single phrases; a
confirmation that names another slot than the one accepted is kept as ``unsure`` until the business
settles it. State lives in ``conv.state["agreement"]`` as plain JSON (ISO minutes, local to the business).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent.conversation import Conversation

KEY = "agreement"


class Agreement:
    """The agreement of one outbound conversation; reads and writes ``conv.state["agreement"]`` directly."""

    def __init__(self, conv: Conversation) -> None:
        self._conv = conv

    @classmethod
    def of(cls, conv: Conversation) -> Agreement:
        return cls(conv)

    def _get(self, name: str, default: Any = None) -> Any:
        return (self._conv.state.get(KEY) or {}).get(name, default)

    def _set(self, **values: Any) -> None:
        self._conv.state.setdefault(KEY, {}).update(values)

    @property
    def offered(self) -> list[str]:
        """The slots of the business's latest offer (ISO minutes)."""
        return list(self._get("offered", []))

    @property
    def accepted(self) -> str | None:
        """The slot Lisa said yes to (stands until withdrawn or replaced)."""
        slot: str | None = self._get("accepted")
        return slot

    @property
    def confirmed(self) -> str | None:
        """The slot the business confirmed."""
        slot: str | None = self._get("confirmed")
        return slot

    @property
    def unsure(self) -> dict[str, str] | None:
        """{"agreed": iso, "heard": iso}: a confirmation that named another slot than the one accepted."""
        unsure: dict[str, str] | None = self._get("unsure")
        return unsure

    @property
    def asked_unsure(self) -> int:
        """How often Lisa asked which of the two slots was meant."""
        return int(self._get("asked_unsure", 0))

    # ------------------------------------------------------------------ steps
    @property
    def withdrawn(self) -> list[str]:
        """Slots the business took back after offering them ("sorry, my colleague just took that one")."""
        return list(self._get("withdrawn", []))

    def offer(self, slots: list[datetime]) -> None:
        """The business offers ``slots``; a slot it withdrew and now offers again is on the table again."""
        offered = [iso(s) for s in slots]
        self._set(offered=offered, withdrawn=[w for w in self.withdrawn if w not in offered])

    def accept(self, slot: datetime) -> None:
        """Lisa said yes to ``slot``; a yes to another slot replaces an earlier one."""
        confirmed = self.confirmed if self.confirmed == iso(slot) else None
        self._set(accepted=iso(slot), confirmed=confirmed, unsure=None, asked_unsure=0)

    def confirm(self, slot: datetime) -> None:
        """The business confirmed ``slot``; it is accepted too (a business that books directly), and free
        again if the business had taken it back before."""
        withdrawn = [w for w in self.withdrawn if w != iso(slot)]
        self._set(accepted=iso(slot), confirmed=iso(slot), unsure=None, withdrawn=withdrawn)

    def doubt(self, agreed: datetime, heard: datetime) -> None:
        """A confirmation named ``heard`` although ``agreed`` was accepted: nothing is agreed until settled."""
        self._set(unsure={"agreed": iso(agreed), "heard": iso(heard)}, asked_unsure=self.asked_unsure + 1)

    def withdraw(self, by_business: bool = False) -> None:
        """The business took its offer back (nothing free after all, call back later), or Lisa did.
        ``by_business``: the slot talked about is remembered as withdrawn and is never agreed again
        unless the business offers it anew."""
        gone = [s for s in (self.accepted, (self.unsure or {}).get("agreed")) if s]
        if by_business and gone:
            self._set(withdrawn=sorted(set(self.withdrawn) | set(gone)))
        self._set(accepted=None, confirmed=None, unsure=None)

    def take_back(self, slots: list[str]) -> None:
        """The business says ``slots`` (ISO minutes) are gone: never agreed again unless offered anew; an
        acceptance or an unsure confirmation of one of them falls."""
        self._set(withdrawn=sorted(set(self.withdrawn) | set(slots)))
        if self.accepted in slots or (self.unsure or {}).get("agreed") in slots:
            self.withdraw(by_business=True)

    # ------------------------------------------------------------------ what stands
    @property
    def standing(self) -> str | None:
        """The slot Lisa accepted that nobody has taken back (None while a confirmation is unsure)."""
        return None if self.unsure else self.accepted


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def agreed_slot(conv: Conversation) -> str | None:
    """The slot both sides agreed on (accepted by Lisa and confirmed by the business), else None."""
    ag = Agreement.of(conv)
    if ag.unsure or not ag.accepted or ag.confirmed != ag.accepted or ag.accepted in ag.withdrawn:
        return None
    return ag.accepted


def on_hangup(conv: Conversation) -> str | None:
    """The business hung up without a goodbye: a slot it confirmed, or one Lisa accepted that it did not
    object to (nothing unsure, nothing withdrawn), counts as agreed; returns it (None: nothing agreed)."""
    ag = Agreement.of(conv)
    if ag.unsure or not ag.accepted or ag.accepted in ag.withdrawn:
        return None
    if ag.confirmed != ag.accepted:
        ag.confirm(datetime.fromisoformat(ag.accepted))
    return agreed_slot(conv)
