"""Selection: top-n / top-fraction / threshold by a score, quotas, dedup clusters, diversity.

``run_select`` is the stage (pool + manifest); ``walk`` the pure walk over a ranking;
``methods/`` the selection methods (rule, rds, ifd, random, ...), one file each, a registry
read by ``select``, ``select-compare`` and the size search; ``rds`` the target-aware RDS+
ranking; ``subsets`` and ``trials`` the trials (n, arm, seed) and their results table that
``select-compare`` and the size search (:mod:`instructmine.search`, on top of this) share.
"""
