"""Many devices sharing cloud GPUs: a split server and a cloud-only server (continuous batching) on
one event loop (run.py), the same engine and KV memory; a replica's cost models (replica.py), the closed
forms (analytic.py), capacity, replica sizes and cost from them. Import the module you need: nothing is
re-exported here, so `plmodel estimate` loads only the closed forms and not the simulation."""
