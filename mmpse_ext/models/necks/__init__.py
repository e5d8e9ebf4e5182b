from .pse_fpn import PSEFPN

__all__ = ['PSEFPN']
