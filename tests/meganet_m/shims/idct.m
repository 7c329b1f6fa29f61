function x = idct(y)
% Inverse of the orthonormal DCT-II (see dct.m) along the first dimension.
if isrow(y), y = y(:); end
n = size(y, 1);
[k, j] = ndgrid(0:n-1, 0:n-1);
C = sqrt(2/n) * cos(pi * (2*j + 1) .* k / (2*n));
C(1, :) = C(1, :) / sqrt(2);
x = C' * y;
end
