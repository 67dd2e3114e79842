"""What an honest-but-curious cloud can compute from what crosses the link: stated, not proved.

An `Exposure` lists what the cloud can recover (the prompt, the output, the adapter M), how, and how many
tokens must cross before it can. The base split's (`of_split`) follows from what the published design
sends: the embeddings up (rows of the public table: the prompt by lookup), the last hidden state computed
by the cloud (the output through the public LM head), and for every adapted projection and token u = x.A
down and v = u.M up (M by least squares once r_c2d linearly independent tokens have crossed). A design
changes it through its `cloud_sees` hook (design.py); analysis/privacy.py folds them for a scenario.
Side channels, timing and traffic analysis are out of scope (docs/privacy.md).
"""

from __future__ import annotations

from dataclasses import replace

from plmodel.frozen import frozen

#: What a user may ask the cloud not to recover, the most sensitive first.
WHAT = ("prompt", "output", "adapter")


@frozen
class Recovery:
    """One thing the cloud can recover: `what` (WHAT), `how` (one line), after `tokens` tokens have crossed."""

    what: str
    how: str
    tokens: int = 1


@frozen
class Exposure:
    """What the cloud can recover (`recoveries`) and why the rest stays hidden (`hidden`: {what: reason})."""

    recoveries: tuple = ()
    hidden: tuple = ()  # (what, reason) pairs

    @property
    def cloud_can_recover(self) -> list:
        """The names of what the cloud can recover, in WHAT's order."""
        got = {r.what for r in self.recoveries}
        return [w for w in WHAT if w in got]

    def of(self, what: str) -> Recovery | None:
        return next((r for r in self.recoveries if r.what == what), None)

    def hides(self, asked) -> bool:
        """Whether the cloud recovers none of `asked` (names from WHAT; "none" or empty: no requirement)."""
        return not set(asked) & set(self.cloud_can_recover)

    def without(self, what: str, reason: str) -> "Exposure":
        """The same with `what` hidden, for `reason`."""
        if self.of(what) is None:
            return self
        return Exposure(tuple(r for r in self.recoveries if r.what != what),
                        tuple(h for h in self.hidden if h[0] != what) + ((what, reason),))

    def with_(self, recovery: Recovery) -> "Exposure":
        """The same with `recovery` added (replacing what it says about its `what`)."""
        return Exposure(tuple(r for r in self.recoveries if r.what != recovery.what) + (recovery,),
                        tuple(h for h in self.hidden if h[0] != recovery.what))

    def retold(self, what: str, how: str, tokens: int | None = None) -> "Exposure":
        """The same with how `what` is recovered told anew (it stays recoverable)."""
        r = self.of(what)
        return self if r is None else self.with_(replace(r, how=how, tokens=r.tokens if tokens is None else tokens))

    @property
    def reason(self) -> str:
        """One line: how each thing is recovered, then why the rest is hidden."""
        parts = [f"{r.what}: {r.how}" for w in WHAT for r in self.recoveries if r.what == w]
        whys = list(dict.fromkeys(why for _, why in self.hidden))  # one line a reason, naming all it hides
        parts += [f"{', '.join(w for w, y in self.hidden if y == why)} hidden: {why}" for why in whys]
        return "; ".join(parts) or "nothing crosses to the cloud"


NOTHING_LEAVES = Exposure((), (("prompt", "nothing leaves the device"), ("output", "nothing leaves the device"),
                               ("adapter", "nothing leaves the device")))


def least_squares(adapter) -> Recovery:
    """M of every adapted projection: the cloud sends U (tokens x r_c2d) and receives V = U.M, so r_c2d linearly
    independent tokens give M = (U^T U)^-1 U^T V (one prompt of r_c2d tokens suffices)."""
    return Recovery("adapter", "for every adapted projection it sends u = x.A and receives v = u.M; M = least "
                    "squares once r_c2d linearly independent tokens have crossed", adapter.r_c2d)


def of_cloud_only() -> Exposure:
    """The whole model on the cloud: it reads the prompt's tokens and writes the output."""
    return Exposure((Recovery("prompt", "the cloud receives the prompt's tokens"),
                     Recovery("output", "the cloud computes the output")))


def of_split(model, adapter) -> Exposure:
    """What the cloud can recover from the split as published (layers the device holds run public weights)."""
    first, last = adapter.split.first, adapter.split.last
    prompt = ("the embeddings sent up are rows of the public embedding table: a lookup gives each token" if not first
              else f"it inverts the {first} public layer(s) the device holds first from the hidden state it receives "
              "(their weights are public; no longer a table lookup)")
    output = ("it computes the last hidden state (the adapters' v come up too) and the public LM head gives the "
              "output distribution" if not last else
              f"it runs the {last} public layer(s) the device holds last and the public LM head on the hidden state "
              "it sends down")
    out = Exposure((Recovery("prompt", prompt), Recovery("output", output)))
    if adapter.targets and len(adapter.adapted_layers(model.n_layers)):
        return out.with_(least_squares(adapter))
    return Exposure(out.recoveries, (("adapter", "no adapters on the cloud's layers: no M crosses"),))
