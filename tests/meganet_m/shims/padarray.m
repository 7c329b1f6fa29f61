function B = padarray(A, padsize, val, direction)
% Pad A with the constant val after ('post'), before ('pre') or on both sides
% ('both', the default) by padsize(d) entries along dimension d.
if nargin < 3, val = 0; end
if nargin < 4, direction = 'both'; end
if ~isnumeric(val)
  error('padarray: only constant padding values are supported here');
end
sz = size(A);
padsize = [padsize(:)' zeros(1, max(0, numel(sz) - numel(padsize)))];
sz = [sz ones(1, numel(padsize) - numel(sz))];
switch direction
  case 'post', pre = zeros(size(padsize)); post = padsize;
  case 'pre',  pre = padsize; post = zeros(size(padsize));
  case 'both', pre = padsize; post = padsize;
  otherwise, error('padarray: unknown direction %s', direction);
end
B = val*ones(sz + pre + post, 'like', A);
idx = cell(1, numel(sz));
for d = 1:numel(sz)
  idx{d} = pre(d) + (1:sz(d));
end
B(idx{:}) = A;
end
