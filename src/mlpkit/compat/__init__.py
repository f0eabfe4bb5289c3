"""The book's own APIs on top of mlpkit, so that its code runs unchanged (and vectorized).

>>> from mlpkit.compat import mnist_loader, network2
>>> training_data, validation_data, test_data = mnist_loader.load_data_wrapper()   # doctest: +SKIP
>>> net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)         # doctest: +SKIP

- :mod:`mlpkit.compat.network2`: Nielsen's ``network2.py`` (*Neural Networks and Deep Learning*, ch.3):
  ``Network``, ``CrossEntropyCost``, ``QuadraticCost``, ``SGD`` with its ``monitor_*`` flags and
  ``early_stopping_n``, ``save``/``load`` in network2's JSON format.
- :mod:`mlpkit.compat.mnist_loader`: Nielsen's ``mnist_loader.py``: ``load_data()`` and
  ``load_data_wrapper()`` with the book's 50,000 / 10,000 / 10,000 split and tuple formats.
"""

from . import mnist_loader, network2

__all__ = ["mnist_loader", "network2"]
