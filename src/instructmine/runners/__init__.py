"""Runners execute indicators over a pool; the indicator code is the same under every runner."""
