"""``torch.distributed.elastic.multiprocessing``'s ``errors.record`` (see errors.py)."""
