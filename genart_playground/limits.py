"""Server-side bounds on every parameter: absurd values are refused before any model work.

GENART_PUBLIC=1 (public Spaces) lowers the caps that cost the most compute.
"""

from . import settings

_PUBLIC = PUBLIC = settings.PUBLIC

MAX_PROMPT_CHARS = 1000
MAX_SEED = 2**32 - 1  # the range AUTOMATIC1111 and most tools show and accept
MAX_IMAGES = 4 if _PUBLIC else 8
MAX_STEPS = 50 if _PUBLIC else 150
MAX_GUIDANCE = 30.0
# Public deployments also bound one request's whole work, steps × images × pixels, by where it runs: each
# cap alone still let one request (768², 4 images, 50 steps) hold a CPU Space for about 41 minutes.
# CPU: 25 steps of one 512² picture (about a minute of SD-Turbo-sized work); a GPU, 50 steps of 4 at 768².
# A step of a picture costs a fixed part and a part per pixel: the built-in UNet on 2 CPU cores, 8 steps,
# median of 3: 22.9 ms a step at 64², 34.8 at 128², 80.9 at 256² (0.94 µs a pixel, and 19 ms before any):
# the fixed part counts as this many pixels more (checks.work).
STEP_OVERHEAD_PIXELS = 20_000
MAX_PUBLIC_WORK = {device: steps * count * (side * side + STEP_OVERHEAD_PIXELS)
                   for device, (steps, count, side) in {"cpu": (25, 1, 512), "mps": (100, 1, 512),
                                                        "cuda": (50, 4, 768)}.items()}
MIN_SIZE = 32
MAX_SIZE = 768 if _PUBLIC else 1536  # width or height of a generated image, in pixels
MAX_FRAMES = 64 if _PUBLIC else 128
MAX_MIX_SEEDS = 6 if _PUBLIC else 8  # seeds on each side of a style-mixing grid (36 or 64 mixes)
MAX_STYLE_SIZE = 384 if _PUBLIC else 768  # longest side of the image style transfer optimises
MAX_STYLE_STEPS = 300 if _PUBLIC else 1000
MAX_UPLOAD_PIXELS = 4096 * 4096  # refused before decoding: a decompression bomb stops here
MAX_ASPECT = 8  # longest side ÷ shortest, refused before decoding: an 8×2,097,152 sliver is within the pixel cap
#                 but every resize keeps its short side at 8 px, so it stays many times over the model's cap
MAX_MODEL_PIXELS = 1024 * 1024  # larger uploads are resized down to this, and the result says so
MAX_UPLOAD_BYTES = 20 * 2**20
# Request bodies, refused with HTTP 413 before they are read whole (ui/request_limits.py). JSON: the longest
# legitimate request (prompts of MAX_PROMPT_CHARS, a recipe, a pasted image as a data: URL) is far below.
MAX_BODY_BYTES = 4 * 2**20
# Bodies arrive without pauses longer than this (HTTP 408), and the bodies held in memory while they arrive
# (all but uploads, streamed to disk) are capped all together (HTTP 503): 1,500 half-sent 4 MB bodies held 6 GB.
BODY_IDLE_SECONDS = 15
HEADER_SECONDS = 15  # a connection's request must have begun (its headers all in) this long after it opens
MAX_BODY_BYTES_HELD = 64 * 2**20
MAX_BODIES_ARRIVING = 64  # such bodies arriving at once; more get 503 and their connection closed
MAX_BODY_ITEMS = 10_000  # commas in a body held in memory: a request's inputs are a few dozen values
MAX_DRAWING_BYTES = 2 * 2**20  # one canvas drawing as the page sends it (a 256×256 PNG is well under 300 KB)
MAX_DRAWINGS_HELD = 64  # drawings sent but not yet used, all pages together; past it the oldest go
MAX_JOBS_PER_VISITOR = 1  # public only: model jobs one visitor may have waiting or running (ui/request_limits.py)
MAX_UPLOAD_FILES = 2  # files in one upload request: each image box sends its own
MAX_UPLOAD_REQUEST_BYTES = MAX_UPLOAD_FILES * MAX_UPLOAD_BYTES + 2**20  # the files and the form around them
MAX_CACHE_BYTES = 2 * 2**30  # uploads and outputs kept on disk together; past it the oldest unused go first
# The evaluation lab (families/evaluate/evaluate.py): pictures one request makes or judges, and its grids.
MAX_EVAL_PROMPTS = 64  # prompts in one evaluation
MAX_EVAL_PICTURES = 96 if _PUBLIC else 256  # pictures one evaluate() call makes, per model
MAX_EVAL_IMAGES = 2048  # pictures evaluate_images() judges (and real pictures it compares them with)
MAX_EVAL_IMAGE_SIDE = 1024  # pixels: features and the checker read 64×64, so bigger buys nothing
MAX_COMPARE_MODELS = 2 if _PUBLIC else 4  # models side by side in one request
# "One prompt, three families": one model of each family at its own settings, their whole work bounded together
MAX_FAMILY_MODELS = 3
MAX_GRID_CELLS = 36 if _PUBLIC else 64  # an X/Y grid's pictures
MAX_GRID_VALUES = 16  # values on one axis
# Token models (autoregressive.py): the sampler's bounds any model could have; a model's own codebook after it loads.
TEMPERATURE_RANGE = (0.05, 5.0)  # below it sampling is argmax in all but name; above it, noise
MAX_TOP_K = 4096

# The autoencoders' views.
MAX_LATENT_NOISE = 2.0  # noise added to the latents, in units of their own standard deviation: 2 buries the image
MAX_WALK_FRAMES = 32  # each frame is a full decode: a walk costs `frames` reconstructions
