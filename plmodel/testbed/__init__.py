"""A real PrivateLoRA deployment on this machine: a cloud process and a device process (the caller)
exchanging rank-r activations over TCP, with pacing and delay applied in the sender."""
