"""The only unit constants in plmodel: SI inside, conversions at the edges (YAML, CLI, tables).

Mbit/s is 1e6 bit/s and MB is 1e6 bytes; binary units carry MiB/GiB in their names.
"""

BITS_PER_BYTE = 8
KILO = 1e3
MEGA = 1e6
GIGA = 1e9
TERA = 1e12
MIB = 2**20
GIB = 2**30
MS = 1e-3  # seconds in a millisecond
US = 1e-6  # seconds in a microsecond
MBIT = MEGA  # bit/s in 1 Mbit/s
GBYTE = GIGA  # bytes in 1 GB
