"""Human review of a drop's queue: the review page (``asrloop review``), the queue store it
saves through, and the Label Studio round trip (``asrloop review export`` / ``import``)."""
