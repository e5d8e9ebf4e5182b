from .cpu_capable_ddp import CPUCapableDDP

__all__ = ['CPUCapableDDP']
