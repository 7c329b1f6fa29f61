"""Testing aids shipped with meganet: the device-like backend (:mod:`.fakedevice`, with its
transfer log) and its NumPy stand-ins of CuPy's cuDNN modules (:mod:`.fakecudnnlib` for
``cupy.cuda.cudnn``, :mod:`.fakecudnn` for ``cupyx.cudnn``)."""
