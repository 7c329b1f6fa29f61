"""A plain CNN on CIFAR-10 (port of Meganet.m's examples/ECNN_CIFAR10_tf.m).

As ``ECNN_MNIST_tf`` (two 5x5 convolution layers 3 -> 32 -> 64 channels with ReLU, each
followed by 2x average pooling, softmax classifier on the 8x8x64 features, no
regularization) with weights initialised at scale 1e-3 and ADAM with learning rate
1e-3/sqrt(epoch), batch 128, 20 epochs, on 1024 training and 32 validation images.
Without the CIFAR-10 files it runs on the embedded Fashion-MNIST subset.

    python drivers/ECNN_CIFAR10_tf.py [--epochs 20] [--ntrain 1024] [--nval 32]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ECNN_MNIST_tf import ECNN_MNIST_tf  # noqa: E402
from ECNN_MNIST_tf import main as cnnMain  # noqa: E402


def ECNN_CIFAR10_tf(nTrain=2**10, nVal=2**5, epochs=20, useGPU=False, precision="single", rng=None, mpi=None):
    """Train the CNN; returns ``(xOpt, His)``."""
    return ECNN_MNIST_tf(nTrain, nVal, epochs, useGPU, precision, rng, dataset="cifar10", lastPool=2,
                         init=1e-3, lr0=1e-3, miniBatch=128, mpi=mpi)


def main(argv=None):
    return cnnMain(argv, ECNN_CIFAR10_tf)


if __name__ == "__main__":
    main()
