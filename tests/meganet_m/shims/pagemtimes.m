function Z = pagemtimes(X, varargin)
% Page-wise matrix product Z(:,:,k) = op(X(:,:,k)) * op(Y(:,:,k)) for Octave.
%   Z = pagemtimes(X, Y)  or  Z = pagemtimes(X, opX, Y, opY), op in
%   'none', 'transpose', 'ctranspose'. Pages broadcast when one operand has one page.
if numel(varargin) == 1
  opX = 'none'; Y = varargin{1}; opY = 'none';
elseif numel(varargin) == 3
  opX = varargin{1}; Y = varargin{2}; opY = varargin{3};
else
  error('pagemtimes: expected pagemtimes(X,Y) or pagemtimes(X,opX,Y,opY)');
end
szX = size(X); szY = size(Y);
pX = szX(3:end); pY = szY(3:end);
if isempty(pX), pX = 1; end
if isempty(pY), pY = 1; end
nX = prod(pX); nY = prod(pY);
if nX >= nY, pages = pX; else, pages = pY; end
if nX ~= 1 && nY ~= 1 && nX ~= nY
  error('pagemtimes: page dimensions do not agree');
end
n = max(nX, nY);
X = reshape(X, szX(1), szX(2), nX);
Y = reshape(Y, szY(1), szY(2), nY);
A = applyOp(X(:,:,1), opX); B = applyOp(Y(:,:,1), opY);
Z = zeros(size(A,1), size(B,2), n, 'like', A(1)*B(1));
for k = 1:n
  A = applyOp(X(:,:,min(k,nX)), opX);
  B = applyOp(Y(:,:,min(k,nY)), opY);
  Z(:,:,k) = A*B;
end
Z = reshape(Z, [size(Z,1) size(Z,2) pages]);
end

function A = applyOp(A, op)
switch op
  case 'none'
  case 'transpose'
    A = A.';
  case 'ctranspose'
    A = A';
  otherwise
    error('pagemtimes: unknown operation %s', op);
end
end
