function varargout = gather(varargin)
% Host copies of the arguments; without GPU arrays, the arguments themselves.
varargout = varargin;
end
