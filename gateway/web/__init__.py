"""The customer portal page: static files served by the gateway itself (no build step,
nothing fetched from another host at run time)."""
