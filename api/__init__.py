"""The HTTP API and the `parallax` command.

Set here, before anything imports numpy: OpenBLAS reads it once, when it loads. After a
product on its threads (a search's passage scores), an OpenBLAS worker spins for 2^28
processor cycles (about 0.1 s here) waiting for more work before it sleeps, taking a core
from the other requests' query encoders and the event loop. 2^4 cycles makes it sleep at
once. Served on the 28k-passage index, alternating servers: 16 clients 121.2 against 93.0
requests/s (four servers each, every pair better), one client p50 7.60 against 7.75 ms
(eight each). An explicit setting is kept.
"""

import os

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
