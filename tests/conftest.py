import os

# Plots render off-screen and nothing in the suite may reach the network or a GPU by chance.
os.environ.setdefault("MPLBACKEND", "Agg")

# Two xdist workers on two cores: one BLAS thread each, or they slow each other down manyfold
# (measured: a 3 s training cell took 103 s). Kernels started by nbgrader inherit this too.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
