function y = dct(x)
% Orthonormal DCT-II along the first dimension (MATLAB's dct for a column or
% the columns of a matrix), written as a matrix product.
if isrow(x), x = x(:); end
n = size(x, 1);
y = dct_matrix(n) * x;
end

function C = dct_matrix(n)
[k, j] = ndgrid(0:n-1, 0:n-1);
C = sqrt(2/n) * cos(pi * (2*j + 1) .* k / (2*n));
C(1, :) = C(1, :) / sqrt(2);
end
