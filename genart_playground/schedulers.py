"""The schedulers a diffusion run may name: name -> (diffusers class, config overrides). Plain data, so the
UI lists them without importing diffusers; diffusion.py builds them."""

SCHEDULERS = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler-ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "dpm++": ("DPMSolverMultistepScheduler", {}),
    "dpm++-karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "ddim": ("DDIMScheduler", {}),
    "unipc": ("UniPCMultistepScheduler", {}),
    "flow-euler": ("FlowMatchEulerDiscreteScheduler", {}),  # rectified flow (SD3, FLUX, the built-in DiT)
}
