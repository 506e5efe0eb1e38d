"""Helpers of the client-side end-to-end suite: the server process, the goldens, chat bodies."""
