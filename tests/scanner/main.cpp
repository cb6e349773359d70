// The Boost.Test module for pedigree::scanner; every other .cpp here adds cases to it.
#define BOOST_TEST_MODULE pedigree_scanner
#include <boost/test/unit_test.hpp>
