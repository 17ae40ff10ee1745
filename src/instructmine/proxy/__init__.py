"""The proxy fine-tune harness shared by the rule, selection and the size search.

- ``config.py``: :class:`ProxyConfig`, every knob that changes a proxy eval loss.
- ``trunk.py``: split a causal LM into a frozen trunk and a trainable top.
- ``trunk_cache.py``: the trunk's hidden states of a pool and an eval set, cached on disk.
- ``run.py``: :func:`run_proxy`, one fine-tune of the top on a set of record ids, and its loss.
- ``objective.py``: the proxy as a size-search ``fit`` hook.
- ``stats.py``: judging a proxy protocol (signal-to-noise, agreement).
"""
