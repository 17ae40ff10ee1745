"""Selection: top-n / top-fraction / threshold by a score, quotas, dedup clusters, diversity.

``run_select`` is the stage (pool + manifest); ``select_ids`` the pure walk over a ranking;
``rds`` the target-aware RDS+ ranking; ``instructmine.search`` the subset-size search.
"""
