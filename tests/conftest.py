import os

# Plots render off-screen and nothing in the suite may reach the network or a GPU by chance.
os.environ.setdefault("MPLBACKEND", "Agg")
