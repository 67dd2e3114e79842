"""Token ids up instead of embeddings: the cloud holds the embedding table and looks the rows up itself.

The published split sends each token's embedding up (d_model x act_bits/8 bytes); the embedding is a lookup
in a public table, so it hides nothing the ids would not. Sending the id (4 bytes a token) instead removes the
embedding upload and the device's lookup and table (unless the LM head shares it). It hides nothing more: the
cloud reads the prompt as before. The cloud's copy of the table (vocab x d_model at its bits, under 2 % of a
7B model's weights) is not added to its memory.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from plmodel.design import Flag, Param
from plmodel.errors import PlmodelError
from plmodel.frozen import frozen
from plmodel.hardware.engine import engines
from plmodel.workload import bytes_per_weight, ends_work

#: Bytes of a token id on the wire (an int32).
ID_BYTES = 4


@frozen
class TokenIdsUp(Flag):
    """The device sends token ids up; the cloud embeds them."""

    name: ClassVar[str] = "token_ids_up"
    title: ClassVar[str] = "token ids up instead of embeddings"
    summary: ClassVar[str] = "4 bytes a token up instead of its embedding; the cloud holds the embedding table"
    params: ClassVar[tuple] = (
        Param("token_ids_up", "--token-ids-up", "int", 0, "1: send token ids up (4 bytes a token) instead of "
              "embeddings; the cloud holds the embedding table (hides nothing more)", "flag", absent=0,
              metavar="0|1"),
    )

    @classmethod
    def variants(cls, scn) -> list:
        return [("token ids up", cls())]

    def check(self, scn) -> None:
        if scn.adapter.split.first:
            raise PlmodelError("with layers held first the device sends their hidden state up, not embeddings; hold "
                               "none first or send embeddings", field="token_ids_up")

    def pieces(self, scn, step, base):
        """The upload is the ids; the device no longer looks the embedding rows up."""
        p = base(step)
        a, m, t = scn.adapter, scn.model, step.tokens
        ends = ends_work(m, step, a.device_weight_bits, a.act_bits)
        lookup = t * m.d_model
        no_lookup = replace(ends, device_weight_bytes=ends.device_weight_bytes - lookup * bytes_per_weight(a.device_weight_bits),
                            device_act_bytes=ends.device_act_bytes - lookup * a.act_bits / 8)
        device = engines(scn)[1]
        saved = device.device_s(ends, calls=1) - device.device_s(no_lookup, calls=1)
        return replace(p, up_bytes=t * ID_BYTES + 0 * p.up_bytes, device_ends_s=p.device_ends_s - saved)

    def device_bytes(self, scn):
        """The embedding table leaves the device (unless the LM head shares it): a negative addition."""
        m = scn.model
        return 0.0 if m.tie_embeddings else -m.vocab_size * m.d_model * bytes_per_weight(scn.adapter.device_weight_bits)

    def cloud_sees(self, scn, exposure, path: str):
        if path != "split":
            return exposure
        return exposure.retold("prompt", "the device sends the token ids themselves")
