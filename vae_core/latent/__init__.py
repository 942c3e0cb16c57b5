"""The latent space: codes of images (and the load-or-compute rule for them), 2-D projections, decoding a place on a
map, interpolation paths, the posterior of one image, and how latent axes are ranked and ranged."""
