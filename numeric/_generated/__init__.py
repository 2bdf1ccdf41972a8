"""Generated kernels (symconv generate); do not edit."""
