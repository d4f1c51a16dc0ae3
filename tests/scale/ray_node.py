"""``ray start ...`` for a node of a cluster on this machine that listens on 127.0.0.1 only.

Ray's CLI swaps a loopback ``--node-ip-address`` for the machine's address when a cluster may
have several nodes, and its servers then listen on every interface. This keeps 127.0.0.1 (the
servers then listen there alone); everything else is ``ray start`` as it is.
Usage: ``python tests/scale/ray_node.py start --head --node-ip-address=127.0.0.1 ...``
"""

import sys

from ray._private import services
from ray.scripts.scripts import main

services.resolve_ip_for_localhost = lambda host: host

if __name__ == "__main__":
    sys.argv = ["ray", *sys.argv[1:]]
    main()
