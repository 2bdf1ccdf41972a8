"""numeric: runs symconv's generated convolution kernels on NumPy arrays or torch tensors."""
