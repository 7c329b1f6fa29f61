function B = imresize(A, outSize, method)
% Nearest-neighbour resize of the first two dimensions of A by integer factors
% (the only use needed here: upsampling a pooled image back to its full size).
if nargin < 3 || ~strcmp(method, 'nearest')
  error('imresize: only the ''nearest'' method is supported here');
end
f = outSize(:)' ./ [size(A,1) size(A,2)];
if any(f ~= round(f)) || any(f < 1)
  error('imresize: only integer upsampling factors are supported here');
end
i = ceil((1:outSize(1)) / f(1));
j = ceil((1:outSize(2)) / f(2));
B = A(i, j, :);
end
