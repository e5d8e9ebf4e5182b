from .pse_loss import PSELoss
from .pse_loss_targets import PSELossTargets
from .text_ohem import OHEM_NEGATIVES, ohem_text_mask

__all__ = ['PSELoss', 'PSELossTargets', 'OHEM_NEGATIVES', 'ohem_text_mask']
