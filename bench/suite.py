"""The benchmark suite of DESIGN.md (issue 4), plus a large-kernel layer for the FFT (issue 7).

Each row: name, N, C_in, H (= W), C_out, k, stride, padding, dilation, groups.
"""

SUITE = [
    ("LeNet conv1", 64, 1, 28, 6, 5, 1, 0, 1, 1),
    ("AlexNet conv1", 8, 3, 227, 96, 11, 4, 0, 1, 1),
    ("VGG 64x56x56", 8, 64, 56, 64, 3, 1, 1, 1, 1),
    ("VGG 256x28x28", 8, 256, 28, 256, 3, 1, 1, 1, 1),
    ("depthwise 128x56x56", 8, 128, 56, 128, 3, 1, 1, 1, 128),
    ("dilated 32x64x64 d2", 8, 32, 64, 32, 3, 1, 2, 2, 1),
]
LARGE_KERNEL = ("large kernel 16x128x128 15x15", 2, 16, 128, 16, 15, 1, 7, 1, 1)
