"""mlpkit: fast, NumPy-first fully-connected neural networks.

Everything of Nielsen's *Neural Networks and Deep Learning* ch.3 (network2.py) and Ng's *Improving Deep
Neural Networks*, vectorized over the mini-batch, numerically stable, gradient-checked and safe to save.
"""

from . import autodiff
from .activations import softmax
from .autodiff.custom import FocalLoss, ForwardLayer, ForwardLoss, Huber, Maxout
from .averages import ExponentialMovingAverage, ewa
from .callbacks import Callback, EarlyStopping, ProgressLogger
from .gradcheck import GradCheckResult, gradcheck
from .history import History
from .layers import Activation, BatchNorm, Dense, Dropout, Layer, Standardize, register_layer
from .losses import BinaryCrossEntropy, CategoricalCrossEntropy, Loss, Quadratic, register_loss
from .network import Network
from .optimizers import SGD, Adam, AdamW, Momentum, Nesterov, Optimizer, RMSprop, get_optimizer
from .regularizers import L1, L2
from .schedules import Constant, ExponentialDecay, HalveOnPlateau, InverseTimeDecay, Schedule, StepDecay, get_schedule
from .serialization import ModelFileError, load_network
from .training import fit

load = load_network

__version__ = "0.1.0"

__all__ = [
    "L1",
    "L2",
    "SGD",
    "Activation",
    "Adam",
    "AdamW",
    "BatchNorm",
    "BinaryCrossEntropy",
    "Callback",
    "CategoricalCrossEntropy",
    "Constant",
    "Dense",
    "Dropout",
    "EarlyStopping",
    "ExponentialDecay",
    "ExponentialMovingAverage",
    "FocalLoss",
    "ForwardLayer",
    "ForwardLoss",
    "GradCheckResult",
    "HalveOnPlateau",
    "History",
    "Huber",
    "InverseTimeDecay",
    "Layer",
    "Loss",
    "Maxout",
    "ModelFileError",
    "Momentum",
    "Nesterov",
    "Network",
    "Optimizer",
    "ProgressLogger",
    "Quadratic",
    "RMSprop",
    "Schedule",
    "Standardize",
    "StepDecay",
    "__version__",
    "autodiff",
    "ewa",
    "fit",
    "get_optimizer",
    "get_schedule",
    "gradcheck",
    "load",
    "load_network",
    "register_layer",
    "register_loss",
    "softmax",
]
