function p = randperm(n, varargin)
% randperm that hands the permutations queued in the global cell array
% MEGANET_PERM_QUEUE, in order, to sgd's solve (its one draw per epoch), so
% that the example order is known; every other call draws with Octave's randperm.
global MEGANET_PERM_QUEUE
st = dbstack();
if ~isempty(MEGANET_PERM_QUEUE) && numel(st) >= 2 && any(strcmp(st(2).name, {'solve', 'sgd.solve'}))
  p = MEGANET_PERM_QUEUE{1};
  MEGANET_PERM_QUEUE(1) = [];
  if numel(p) ~= n
    error('randperm: the queued permutation has %d entries, sgd asked for %d', numel(p), n);
  end
  p = reshape(p, 1, []);
  return
end
p = builtin('randperm', n, varargin{:});
end
