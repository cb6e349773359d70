// The Boost.Test module for pedigree::ledger; every other .cpp here adds cases to it.
#define BOOST_TEST_MODULE pedigree_ledger
#include <boost/test/unit_test.hpp>
