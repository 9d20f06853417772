# cython: language_level=3
"""Checked array arguments for the kernels' Python-callable drivers (a header: inline only).

The kernels read and write through raw pointers and trust them, so a driver checks every array
before it takes a pointer: the exact dtype, the number of dimensions, C-contiguous, aligned,
native byte order, writeable when the kernel writes it, and its length against the other
arguments. A wrong array is refused, naming the argument, before anything is touched:
``TypeError`` for something that is not an ndarray or has the wrong dtype, ``ValueError`` for a
wrong shape, layout or length. Each check reads a few header fields, a constant per call and
never a pass over the data. Typed memoryviews check the same things, but each costs a buffer
acquisition per argument and its error does not say which argument was wrong.
"""

cimport numpy as cnp


cdef inline bint _same_type(int a, int b) noexcept:
    # np.longlong is int64 too, under another type number
    return a == b or cnp.PyArray_EquivTypenums(a, b)


cdef inline bint is_c_array(object a, int typenum, int ndim, bint writable) noexcept:
    """``a`` is an ndarray of exactly this dtype and ndim, C-contiguous, aligned, in native byte
    order, and writeable if asked: a kernel may use it through a plain pointer."""
    if not cnp.PyArray_Check(a):
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_NDIM(arr) != ndim:
        return False
    if not _same_type(cnp.PyArray_TYPE(arr), typenum):
        return False
    return cnp.PyArray_ISCARRAY(arr) if writable else cnp.PyArray_ISCARRAY_RO(arr)


cdef inline int refuse(object a, str name, str dtype, int ndim, bint writable,
                       int typenum, int typenum2=-1) except -1:
    """Raise the error that says why ``a`` is not a C-contiguous ``ndim``-d array of ``dtype``
    (type number ``typenum`` or ``typenum2``), writeable if asked."""
    if not cnp.PyArray_Check(a):
        raise TypeError(f"`{name}` must be a numpy array of {dtype}, got {type(a).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    cdef int t = cnp.PyArray_TYPE(arr)
    if not (_same_type(t, typenum) or (typenum2 >= 0 and _same_type(t, typenum2))):
        raise TypeError(f"`{name}` must have dtype {dtype}, got {arr.dtype}")
    if not cnp.PyArray_ISNOTSWAPPED(arr):
        raise TypeError(f"`{name}` must have dtype {dtype} in native byte order, got {arr.dtype.str!r}")
    if cnp.PyArray_NDIM(arr) != ndim:
        raise ValueError(f"`{name}` must be {ndim}-dimensional, got shape {a.shape}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        raise ValueError(f"`{name}` must be C-contiguous (numpy.ascontiguousarray), got strides {a.strides}")
    if not cnp.PyArray_ISALIGNED(arr):
        raise ValueError(f"`{name}` must be aligned")
    if writable and not cnp.PyArray_ISWRITEABLE(arr):
        raise ValueError(f"`{name}` must be writeable (the kernel writes it)")
    raise TypeError(f"`{name}` must be a C-contiguous {ndim}-d array of {dtype}")  # not reached


cdef inline Py_ssize_t length(object a, int typenum, str name, str dtype, bint writable) except -1:
    """Length of a 1-d array the kernel may use through a pointer, else the error naming it."""
    if is_c_array(a, typenum, 1, writable):
        return cnp.PyArray_DIM(<cnp.ndarray>a, 0)
    refuse(a, name, dtype, 1, writable, typenum)
    return -1


cdef inline Py_ssize_t length_i64(object a, str name, bint writable=False) except -1:
    return length(a, cnp.NPY_INT64, name, "int64", writable)


cdef inline Py_ssize_t length_f64(object a, str name, bint writable=False) except -1:
    return length(a, cnp.NPY_FLOAT64, name, "float64", writable)


cdef inline Py_ssize_t length_u8(object a, str name, bint writable=False) except -1:
    return length(a, cnp.NPY_UINT8, name, "uint8", writable)


cdef inline bint is_id_array(object a) noexcept:
    """``a`` is a read-only-usable 1-d id array: int32 or int64 (see :func:`is_c_array`)."""
    if not cnp.PyArray_Check(a):
        return False
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>a)
    cdef bint narrow = t != cnp.NPY_INT64 and _same_type(t, cnp.NPY_INT32)
    return is_c_array(a, cnp.NPY_INT32 if narrow else cnp.NPY_INT64, 1, False)


cdef inline Py_ssize_t length_ids(object a, str name, bint* narrow) except -1:
    """Length of a read-only 1-d id array, int32 (``narrow[0]`` set) or int64."""
    if is_id_array(a):
        narrow[0] = cnp.PyArray_ITEMSIZE(<cnp.ndarray>a) == 4
        return cnp.PyArray_DIM(<cnp.ndarray>a, 0)
    refuse(a, name, "int32 or int64", 1, False, cnp.NPY_INT64, cnp.NPY_INT32)
    return -1


cdef inline int shape_2d(object a, int typenum, str name, str dtype, bint writable,
                         Py_ssize_t* rows, Py_ssize_t* cols) except -1:
    """Shape of a 2-d array the kernel may use through a pointer, else the error naming it."""
    if not is_c_array(a, typenum, 2, writable):
        refuse(a, name, dtype, 2, writable, typenum)
    rows[0] = cnp.PyArray_DIM(<cnp.ndarray>a, 0)
    cols[0] = cnp.PyArray_DIM(<cnp.ndarray>a, 1)
    return 0


cdef inline int same_length(Py_ssize_t got, str name, Py_ssize_t want, str other) except -1:
    """``ValueError`` unless ``name`` has the length ``want`` of ``other``."""
    if got != want:
        raise ValueError(f"`{name}` must have the length of {other} ({want}), got {got}")
    return 0


cdef inline void* data(object a) noexcept:
    """The data pointer of an array that passed one of the checks above."""
    return cnp.PyArray_DATA(<cnp.ndarray>a)
