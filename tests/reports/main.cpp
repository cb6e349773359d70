// The Boost.Test module for pedigree::reports; every other .cpp here adds cases to it.
#define BOOST_TEST_MODULE pedigree_reports
#include <boost/test/unit_test.hpp>
