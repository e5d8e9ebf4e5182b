from .pse_loss import PSELoss

__all__ = ['PSELoss']
